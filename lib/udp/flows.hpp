/// The sessions of a UDP front end, one per flow: a local source (`udp` mode), or a source and
/// the destination it sent to (captured datagrams). Each flow gets its own association through
/// the chain, opened on its first datagram, rebuilt on the next datagram after a control
/// connection closed, and ended after the idle timeout without a datagram either way; at most
/// max_sources flows are served at once, a new one ending the one idle the longest. Datagrams
/// that arrive while an association opens wait in a bounded queue. Replies must come from the
/// flow's target (udp/association.hpp checks the relays); they leave through the flow's reply
/// socket to its source.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "chain/open_chain.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"
#include "udp/association.hpp"
#include "udp/udp_relay.hpp"

namespace hc::udp {

struct FlowKey {
  Endpoint source;
  Endpoint destination;  ///< left default by a front end with one target
  bool operator<(const FlowKey& other) const;
};

/// What a new flow needs: where its datagrams go, the socket its replies leave from (to the
/// flow's source) and its name in logs ("udp 5353 from 127.0.0.1:40000").
struct FlowStart {
  proto::HostPort target;
  std::shared_ptr<asio::ip::udp::socket> reply;
  std::string name;
};

/// The flows of one front end; shared by the sessions it started, which may outlive it.
class FlowTable;

/// `services` and `totals` must outlive every session (they live as long as the io_context runs).
std::shared_ptr<FlowTable> make_flow_table(const asio::any_io_executor& ex, chain::Hops hops,
                                           chain::Services& services, ForwardOptions options,
                                           Counters& totals);

/// How a front end starts a flow it does not serve yet; nullopt drops the datagram (the
/// callee says why).
using FlowStarter = std::function<std::optional<FlowStart>()>;

/// Hands one datagram from `key.source` to its flow, starting the flow with `start` if needed.
void push_datagram(const std::shared_ptr<FlowTable>& table, const FlowKey& key,
                   std::span<const std::uint8_t> datagram, const FlowStarter& start);

/// "127.0.0.1:40000"; an IPv4-mapped address in its IPv4 form.
std::string endpoint_text(const Endpoint& e);

/// Waits `delay` (a transient receive error: keep serving without spinning).
awaitable<void> pause_for(std::chrono::milliseconds delay);

}  // namespace hc::udp
