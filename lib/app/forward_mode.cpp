#include <memory>
#include <string>

#include "app/listener.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "app/tunnel_session.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"

namespace hc::app {
namespace {

/// One accepted connection: its own chain, then the relay. Failures end this connection only.
awaitable<void> serve_connection(tcp::socket accepted, const ForwardSpec& spec,
                                 const chain::Services& shared, ServerStats& totals) {
  // Its own Services: the tag its chain's log lines carry, like this connection's own lines.
  chain::Services services = shared;
  services.log_tag = log::next_connection_tag();
  std::error_code ignored;
  const auto peer = accepted.remote_endpoint(ignored);
  const std::string who = services.log_tag + "forward " + std::to_string(spec.listen.port) +
                          " from " + peer.address().to_string() + ":" + std::to_string(peer.port());
  ConnectionStats report(who, totals);
  accepted.set_option(tcp::no_delay(true), ignored);
  transport::TcpStream local(std::move(accepted));
  const TunnelOutcome tunnel = co_await run_tunnel(
      local, services.planner->hops(), spec.target, services,
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

awaitable<void> accept_loop(tcp::acceptor acceptor, const ForwardSpec& spec,
                            chain::Services& services, ServerStats& totals) {
  co_await accept_connections(std::move(acceptor), "forward " + listen_text(spec.listen),
                              [&](tcp::socket socket) {
                                return serve_connection(std::move(socket), spec, services, totals);
                              });
}

}  // namespace

awaitable<int> run_forward(const Config& config, chain::Services& services, ServerStats& totals,
                           ForwardRole role) {
  const auto ex = co_await asio::this_coro::executor;
  std::vector<tcp::acceptor> acceptors;
  for (const auto& spec : config.forwards) {
    std::error_code ec;
    const PortSharing sharing = !role.share_ports ? PortSharing::exclusive
                                : role.primary    ? PortSharing::first
                                                  : PortSharing::join;
    tcp::acceptor acceptor = open_listener(ex, spec.listen, ec, sharing);
    if (ec) {
      log::error("forward: cannot listen on " + listen_text(spec.listen) + ": " + ec.message());
      co_return 1;
    }
    if (role.primary) {
      log::verbose("forwarding " + spec.listen.to_string() + " to " + spec.target.to_string());
    }
    acceptors.push_back(std::move(acceptor));
  }
  if (role.on_listening) {
    role.on_listening();
  }
  for (std::size_t i = 0; i < acceptors.size(); ++i) {
    asio::co_spawn(ex, accept_loop(std::move(acceptors[i]), config.forwards[i], services, totals),
                   log_task_end);
  }
  // Listeners run until the io_context stops (a signal).
  asio::steady_timer forever(ex, asio::steady_timer::time_point::max());
  co_await forever.async_wait(nothrow);
  co_return 0;
}

}  // namespace hc::app
