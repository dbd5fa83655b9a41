/// The sessions of a UDP front end, one per flow: a local source, whose datagrams go to one target
/// (`udp` mode) or to whatever destinations it sends to (captured datagrams: one association for
/// all of them, so that the far end sees one address for the source, as behind an endpoint-
/// independent NAT). Each flow gets its own association through the chain, opened on its first
/// datagram, rebuilt on the next datagram after a control connection closed, and ended after the
/// idle timeout without a datagram either way; at most max_sources flows are served at once, a
/// new one ending the one idle the longest. Datagrams that arrive while an association opens wait
/// in a bounded queue. A reply must come from a destination the flow sent to (udp/association.hpp
/// checks the relays; the innermost header must name one of the flow's routes); it leaves through
/// that route's reply socket to the source.
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
  bool operator<(const FlowKey& other) const { return source < other.source; }
};

/// Where a flow's datagrams to one destination go, and the socket their replies leave from (to
/// the flow's source).
struct FlowRoute {
  proto::HostPort target;
  std::shared_ptr<asio::ip::udp::socket> reply;
};

/// What a new flow needs: the route of its first datagram and its name in logs ("udp 5353 from
/// 127.0.0.1:40000").
struct FlowStart {
  FlowRoute route;
  std::string name;
};

/// A flow keeps at most this many routes (destinations); a datagram to one more is dropped.
inline constexpr std::size_t kMaxFlowRoutes = 1024;

/// The flows of one front end; shared by the sessions it started, which may outlive it.
class FlowTable;

/// `services` and `totals` must outlive every session (they live as long as the io_context runs).
std::shared_ptr<FlowTable> make_flow_table(const asio::any_io_executor& ex, chain::Hops hops,
                                           chain::Services& services, ForwardOptions options,
                                           Counters& totals);

/// How a front end starts a flow it does not serve yet, or adds a route to a flow for a new
/// destination; nullopt drops the datagram (the callee says why).
using FlowStarter = std::function<std::optional<FlowStart>()>;
using RouteStarter = std::function<std::optional<FlowRoute>()>;

/// Hands one datagram from `key.source` to `destination` (left default by a front end with one
/// target) to its flow, starting the flow with `start`, or its route with `add_route`, if needed.
void push_datagram(const std::shared_ptr<FlowTable>& table, const FlowKey& key,
                   const Endpoint& destination, std::span<const std::uint8_t> datagram,
                   const FlowStarter& start, const RouteStarter& add_route = {});

/// "127.0.0.1:40000"; an IPv4-mapped address in its IPv4 form.
std::string endpoint_text(const Endpoint& e);

/// Waits `delay` (a transient receive error: keep serving without spinning).
awaitable<void> pause_for(std::chrono::milliseconds delay);

}  // namespace hc::udp
