#include <memory>
#include <string>

#include "app/listener.hpp"
#include "app/modes.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"

namespace hc::app {
namespace {

/// One accepted connection: its own chain, then the relay. Failures end this connection only.
awaitable<void> serve_connection(tcp::socket accepted, const Config& config,
                                 const ForwardSpec& spec, chain::Services& services) {
  std::error_code ignored;
  const auto peer = accepted.remote_endpoint(ignored);
  const std::string who = peer.address().to_string() + ":" + std::to_string(peer.port());
  auto chain = co_await chain::open_chain_with_strategy(config.hops, spec.target, services);
  if (chain.error) {
    log::error("forward " + std::to_string(spec.listen.port) + " from " + who + ": " +
               chain.error->message());
    co_return;
  }
  accepted.set_option(tcp::no_delay(true), ignored);
  transport::TcpStream local(std::move(accepted));
  const auto stats = co_await relay::relay(local, *chain.stream);
  chain.stream->close();
  log::verbose("forward " + std::to_string(spec.listen.port) + " from " + who +
               " closed: " + std::to_string(stats.up.bytes) + " bytes sent, " +
               std::to_string(stats.down.bytes) + " bytes received");
}

awaitable<void> accept_loop(tcp::acceptor acceptor, const Config& config, const ForwardSpec& spec,
                            chain::Services& services) {
  co_await accept_connections(std::move(acceptor), "forward " + listen_text(spec.listen),
                              [&](tcp::socket socket) {
                                return serve_connection(std::move(socket), config, spec, services);
                              });
}

}  // namespace

awaitable<int> run_forward(const Config& config, chain::Services& services, ForwardRole role) {
  const auto ex = co_await asio::this_coro::executor;
  std::vector<tcp::acceptor> acceptors;
  for (const auto& spec : config.forwards) {
    std::error_code ec;
    tcp::acceptor acceptor = open_listener(ex, spec.listen, ec, role.share_ports);
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
    asio::co_spawn(ex, accept_loop(std::move(acceptors[i]), config, config.forwards[i], services),
                   log_task_end);
  }
  // Listeners run until the io_context stops (a signal).
  asio::steady_timer forever(ex, asio::steady_timer::time_point::max());
  co_await forever.async_wait(nothrow);
  co_return 0;
}

}  // namespace hc::app
