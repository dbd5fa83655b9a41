/// What the SOCKS server and the HTTP front's CONNECT share once a client's request is accepted:
/// a chain to the target, the client's grant written as soon as one is open, the relay, and the
/// connection's statistics lines.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/stats.hpp"
#include "app/tunnel_session.hpp"

namespace hc::app {

/// The grant for an open chain (SOCKS: a reply naming our end of it; HTTP: "200 Connection
/// established").
using GrantBytes = std::function<std::vector<std::uint8_t>(transport::Stream& remote)>;

/// Runs the tunnel from `local` (the client, or a view of it) to `target`, writing `grant` to
/// `client` before any byte moves. Logs an error after the grant and the close line itself; a
/// chain that never opened (outcome.chain.error && !outcome.opened) is the caller's to refuse.
/// `what` names the connection in log lines ("socks client ...: SOCKS5 CONNECT host:port").
awaitable<TunnelOutcome> grant_then_relay(transport::Stream& client, transport::Stream& local,
                                          const chain::Hops& hops, const proto::HostPort& target,
                                          chain::Services& services, ServerStats& totals,
                                          const std::string& what, const GrantBytes& grant);

}  // namespace hc::app
