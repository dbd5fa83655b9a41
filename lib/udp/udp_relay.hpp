/// The `udp` front end's engine: a local UDP port whose datagrams are carried to one target
/// through the chain, and whose replies return to the local source that sent the request.
///
/// Each local source address is a flow of its own (udp/flows.hpp): its own association (its own
/// control connections and relays), ended after `idle_timeout` without a datagram either way.
/// At most `max_sources` are served at once per port; a new source ends the one idle the longest,
/// so that sources that went quiet (or were spoofed) cannot lock a live one out.
/// Associations are opened through the chain strategy (udp/strategy.hpp), so each may take
/// other hops. Replies must come from the target (see udp/association.hpp for the relay
/// checks); everything else is dropped. Nothing is truncated: a datagram too large once every
/// header is added is dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::udp {

/// Datagrams counted once each: sent into the chain, received back and delivered, or dropped.
struct Counters {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t dropped = 0;
  std::uint64_t bytes_sent = 0;      ///< payload bytes of the datagrams sent
  std::uint64_t bytes_received = 0;  ///< payload bytes of the datagrams delivered
  /// "3 sent, 2 received, 1 dropped"
  std::string text() const;
};

/// Optional observers of the sessions (statistics); each may be left empty.
struct SessionHooks {
  std::function<void()> opened;                          ///< a new local source
  std::function<void(const chain::ChainError&)> failed;  ///< its association failed to open
  /// Its association could not be opened; replaces the error line logged by default (captured
  /// flows log once per destination). Called before `failed`.
  std::function<void(const std::string& who, const proto::HostPort& target,
                     const chain::ChainError&)>
      open_failed;
  /// The session ended: its name ("udp 5353 from 127.0.0.1:40000"), counters and lifetime.
  std::function<void(const std::string&, const Counters&, std::chrono::microseconds)> closed;
};

struct ForwardOptions {
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t queue_limit = 512;  ///< datagrams waiting per source while its association opens
  std::size_t max_sources = 256;  ///< sources served at once per port (--udp-max-sources)
  SessionHooks hooks;
};

/// The eviction policy: given when each served source was last active, which one (an index)
/// makes room for a new source, or nullopt while fewer than `limit` are served. The one idle
/// the longest goes; among equals, the first.
std::optional<std::size_t> source_to_evict(
    std::span<const std::chrono::steady_clock::time_point> last_activity, std::size_t limit);

/// Opens a UDP socket on `listen` (an IP literal, or host "" for every address, IPv6 and IPv4).
asio::ip::udp::socket open_udp_listener(const asio::any_io_executor& ex,
                                        const proto::HostPort& listen, std::error_code& ec);

/// Serves `listener` until it fails or the io_context stops. `totals` and `services` must
/// outlive every session, which they do when they live as long as the io_context runs.
awaitable<void> serve_forward(asio::ip::udp::socket listener, proto::HostPort target,
                              chain::Hops hops, chain::Services& services, ForwardOptions options,
                              Counters& totals);

}  // namespace hc::udp
