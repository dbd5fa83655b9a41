#include "app/accepted_tunnel.hpp"

#include <utility>

#include "app/tunnel_session.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "transport/stream.hpp"

namespace hc::app {

awaitable<void> tunnel_accepted(tcp::socket accepted, std::string who, proto::HostPort target,
                                chain::Services services, ServerStats& totals) {
  ConnectionStats report(who, totals);
  std::error_code ignored;
  accepted.set_option(tcp::no_delay(true), ignored);
  transport::TcpStream local(std::move(accepted));
  const TunnelOutcome tunnel = co_await run_tunnel(
      local, services.planner->hops(), target, services,
      {.optimistic_data = true,
       .on_open = {},
       .on_chain = [&report](const chain::ChainResult& attempt) { report.chain_done(attempt); },
       .live = report.live()});
  if (tunnel.chain.error) {
    log::error(who + ": " + tunnel.chain.error->message());
    co_return;
  }
  report.closed(tunnel.stats);
}

}  // namespace hc::app
