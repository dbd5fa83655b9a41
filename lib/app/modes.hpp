/// The front ends that expose a finished tunnel: stdio, local TCP forwards, a SOCKS server.
#pragma once

#include <functional>
#include <string>

#include "app/config.hpp"
#include "app/stats.hpp"
#include "chain/open_chain.hpp"
#include "transport/asio.hpp"
#include "udp/udp_relay.hpp"

namespace hc::app {

/// Joins stdin/stdout to the target through the chain. Returns the exit status.
/// `totals` (here and below) counts connections and prints their stats (-v, --stats).
awaitable<int> run_stdio(const Config& config, chain::Services& services, ServerStats& totals);

/// How one event loop takes part in forward mode (app/forward_workers.hpp).
struct ForwardRole {
  bool primary = true;       ///< logs what it listens on; the other loops stay quiet about it
  bool share_ports = false;  ///< SO_REUSEPORT: other loops listen on the same ports
  std::function<void()> on_listening;  ///< called once every port is bound
};

/// Listens on every forward spec and builds a fresh chain per accepted connection. Returns only
/// when it cannot listen (exit status 1); otherwise runs until the io_context stops.
awaitable<int> run_forward(const Config& config, chain::Services& services, ServerStats& totals,
                           ForwardRole role = {});

/// A SOCKS4/4a/5 server on config.socks_listen: each client request builds a fresh chain to the
/// address the client asked for, then relays. Returns only when it cannot listen (exit status 1).
awaitable<int> run_socks(const Config& config, chain::Services& services, ServerStats& totals);

/// Carries the datagrams of every config.udp_forwards port to its target through the chain
/// (nested SOCKS5 UDP ASSOCIATE). Returns only when it cannot start (exit status 1): a port that
/// cannot be bound, or a chain that cannot carry UDP; otherwise runs until the io_context stops.
/// udp mode's datagram totals, owned by run(): they are printed after the event loop has stopped,
/// when no coroutine can be asked for them any more.
struct UdpTotals {
  explicit UdpTotals(bool stats = false) : captured_flows(stats) {}
  udp::Counters datagrams;
  bool serving = false;  ///< run_udp got as far as serving: the totals are worth a line at exit
  /// exec's UDP flows, counted apart from its TCP tunnels, which it waits for at exit.
  ServerStats captured_flows;
};

awaitable<int> run_udp(const Config& config, chain::Services& services, ServerStats& totals,
                       UdpTotals& udp_totals);
/// Asks the chain's last hop to listen (SOCKS BIND), prints where, and joins each connection it
/// accepts to a fresh local connection to config.remote_target, binding again after each. With
/// config.remote_once: one connection, then the exit status of its relay (0 clean, 1 failed).
/// A last hop that cannot BIND (HTTP) is refused before connecting, with exit status 2.
awaitable<int> run_remote(const Config& config, chain::Services& services, ServerStats& totals);

/// `redirect`: serves connections (and with config.redirect_udp, datagrams) that the firewall
/// redirected to config.redirect_listen, each through the chain to its original destination.
/// Returns only when it cannot listen (exit status 1); otherwise runs until the io_context stops.
awaitable<int> run_redirect(const Config& config, chain::Services& services, ServerStats& totals,
                            UdpTotals& udp_totals);

/// Walks the chain hop by hop (each hop on its own under a non-strict strategy), prints a table
/// or JSON on stdout. Returns 0 when every check passed, else 1.
awaitable<int> run_check(const Config& config, chain::Services& services);

}  // namespace hc::app
