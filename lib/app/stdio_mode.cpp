#include "app/modes.hpp"
#include "app/stats.hpp"
#include "app/tunnel_session.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"
#include "transport/stdio_stream.hpp"

namespace hc::app {

awaitable<int> run_stdio(const Config& config, chain::Services& services, ServerStats& totals) {
  ConnectionStats report("stdio", totals);
  transport::StdioStream local(co_await asio::this_coro::executor);
  const TunnelOutcome tunnel = co_await run_tunnel(
      local, services.planner->hops(), config.target, services,
      {.optimistic_data = true,
       .on_open = {},
       .on_chain = [&report](const chain::ChainResult& attempt) { report.chain_done(attempt); },
       .live = report.live()});
  if (tunnel.chain.error) {
    log::error(tunnel.chain.error->message());
    co_return 1;
  }
  const relay::RelayStats& stats = tunnel.stats;
  report.closed(stats);
  // Only a write to stdout can fail with EPIPE on the way down (reading a socket never does):
  // the local reader went away (`| head`). Like a filter whose reader had enough, not a failure
  // of the far side.
  if (stats.down.error == std::errc::broken_pipe) {
    log::verbose("stdio: the local output was closed (its reader went away); tunnel to " +
                 config.target.to_string() + " ended");
    co_return 0;
  }
  // The direction that failed first carries the real reason; the other one then only sees the
  // abort that followed.
  const std::error_code& failure =
      stats.down.error && stats.down.error != asio::error::operation_aborted ? stats.down.error
                                                                             : stats.up.error;
  if (failure) {
    log::error("connection to " + config.target.to_string() + " lost: " + failure.message());
    co_return 1;
  }
  co_return 0;
}

}  // namespace hc::app
