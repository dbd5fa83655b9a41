#include <csignal>
#include <exception>
#include <optional>

#include "app/config.hpp"
#include "app/modes.hpp"
#include "chain/tls_contexts.hpp"
#include "dns/resolver.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

awaitable<int> run_mode(const Config& config, chain::Services& services) {
  if (config.mode == Mode::forward) {
    co_return co_await run_forward(config, services);
  }
  if (config.mode == Mode::socks) {
    co_return co_await run_socks(config, services);
  }
  if (config.mode == Mode::udp) {
    co_return co_await run_udp(config, services);
  }
  co_return co_await run_stdio(config, services);
}

}  // namespace

int run(const Config& config) {
  // Writes to a closed stdout pipe must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  log::set_verbosity(config.verbosity);

  asio::io_context io(1);
  std::optional<dns::Resolver> resolver;
  try {
    dns::Resolver::Options options;
    options.servers = config.dns_servers;
    resolver.emplace(io.get_executor(), options);
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  // TLS files are checked before anything connects; a bad one is a usage error.
  chain::TlsContexts tls;
  if (auto error = tls.build(config.hops, config.cafile)) {
    log::error("hop " + std::to_string(error->hop) + "/" + std::to_string(config.hops.size()) +
               " " + config.hops[error->hop - 1].redacted() + ": " + error->message);
    return 2;
  }
  chain::Services services{*resolver, config.connect_timeout, &tls};

  int exit_code = 1;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    // A forward, socks or udp server is a service being stopped; an interrupted pipe is a
    // failed transfer.
    exit_code = config.mode == Mode::forward || config.mode == Mode::socks ||
                        config.mode == Mode::udp
                    ? 0
                    : 128 + signo;
    io.stop();
  });
  asio::co_spawn(io, run_mode(config, services), [&](std::exception_ptr e, int code) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error(std::string("internal error: ") + ex.what());
      }
      code = 1;
    }
    exit_code = code;
    signals.cancel();
    io.stop();
  });
  io.run();
  if (config.mode == Mode::udp) {
    report_udp_totals();
  }
  return exit_code;
}

}  // namespace hc::app
