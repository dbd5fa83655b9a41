#include "app/granted_tunnel.hpp"

#include <utility>

#include "log/log.hpp"

namespace hc::app {

awaitable<TunnelOutcome> grant_then_relay(transport::Stream& client, transport::Stream& local,
                                          const chain::Hops& hops, const proto::HostPort& target,
                                          chain::Services& services, ServerStats& totals,
                                          const std::string& what, const GrantBytes& grant) {
  ConnectionStats report(what, totals);
  TunnelOptions options;
  // The grant goes out once a chain is open; a chain that then ends before its first byte is
  // replaced behind the client's back where the strategy allows.
  options.on_open = [&](transport::Stream& remote) -> awaitable<bool> {
    const std::vector<std::uint8_t> granted = grant(remote);
    auto [ec, n] = co_await client.write_all(granted);
    if (ec) {
      log::verbose(what + ": client went away before the tunnel was granted: " + ec.message());
      co_return false;
    }
    co_return true;
  };
  options.on_chain = [&report](const chain::ChainResult& attempt) { report.chain_done(attempt); };
  options.live = report.live();
  TunnelOutcome tunnel = co_await run_tunnel(local, hops, target, services, std::move(options));
  if (tunnel.chain.error && tunnel.opened) {
    log::error(what + ": " + tunnel.chain.error->message());
  } else if (tunnel.relayed) {
    report.closed(tunnel.stats);
  }
  co_return tunnel;
}

}  // namespace hc::app
