/// Serves datagrams that a netfilter rule (nftables `tproxy`) sent to a local socket (`redirect
/// --udp`, exec's namespace): each flow, a source and whatever destinations it sends to, gets
/// its own SOCKS5 UDP association through the chain (udp/flows.hpp: only hops that carry UDP,
/// idle timeout), and replies reach the program from the destination it sent to, each through
/// a socket bound there; a reply from anywhere else is dropped. When the chain cannot carry UDP
/// the datagrams are dropped, and the reason logged once per destination.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "app/stats.hpp"
#include "chain/services.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"
#include "udp/udp_relay.hpp"

namespace hc::app {

using UdpEndpoint = asio::ip::udp::endpoint;

/// What the chain is asked for, given a captured destination; the default asks for the address
/// itself. nullopt drops the datagram (the reason is the mapper's to log).
using CapturedUdpTarget = std::function<std::optional<proto::HostPort>(const UdpEndpoint&)>;

/// Makes the socket from which replies to a flow leave, bound to its destination. The default,
/// capture::open_reply_socket, makes it in this process's network namespace; a caller whose
/// capture socket lives in another namespace makes it there.
using ReplySocketMaker =
    std::function<asio::ip::udp::socket(const UdpEndpoint& destination, std::error_code& ec)>;

struct CaptureUdpFront {
  std::string label;              ///< prefixes log lines: "exec", "redirect 127.0.0.1:12345"
  CapturedUdpTarget target;       ///< empty: the captured address itself
  ReplySocketMaker reply_socket;  ///< empty: capture::open_reply_socket
  std::chrono::milliseconds idle_timeout{60'000};  ///< a flow's association ends after this
  std::size_t max_flows = 256;                     ///< flows served at once
};

/// Serves `capture`, a bound tproxy target (capture::open_udp_tproxy or make_tproxy_target),
/// until it is closed or the loop stops. `services`, `totals` and `datagrams` must outlive the
/// loop.
awaitable<void> serve_captured_udp(asio::ip::udp::socket capture, CaptureUdpFront front,
                                   chain::Services& services, ServerStats& totals,
                                   udp::Counters& datagrams);

}  // namespace hc::app
