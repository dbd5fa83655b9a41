#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <utility>

#include "app/config.hpp"
#include "app/exec_mode.hpp"
#include "app/forward_workers.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "base/stop_signals.hpp"
#include "chain/cache_files.hpp"
#include "chain/hop.hpp"
#include "chain/probe_set.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "log/log.hpp"
#include "transport/tls_sessions.hpp"

namespace hc::app {
namespace {

bool is_server(Mode mode) {
  return mode == Mode::forward || mode == Mode::socks || mode == Mode::udp ||
         mode == Mode::remote || mode == Mode::redirect || mode == Mode::exec;
}

/// "2 open, 15 total, ..." plus, in udp mode, the datagram counts.
std::string summary(const Config& config, const ServerStats& totals, const UdpTotals& udp) {
  std::string s = totals.summary();
  if (config.mode == Mode::udp || config.redirect_udp) {
    s += ", datagrams: " + udp.datagrams.text();
  }
  return s;
}

/// SIGUSR1: one summary line, and keep serving.
void on_usr1(asio::signal_set& signals, const Config& config, const ServerStats& totals,
             const UdpTotals& udp) {
  signals.async_wait([&signals, &config, &totals, &udp](const std::error_code& ec, int) {
    if (ec) {
      return;
    }
    log::print("stats: " + summary(config, totals, udp));
    on_usr1(signals, config, totals, udp);
  });
}

/// What run() prepared for one mode only.
struct ModeState {
  ForwardWorkers& workers;
  UdpTotals& udp;
  capture::CaptureNamespace* exec_namespace = nullptr;  ///< exec mode's, built before threads
};

awaitable<int> run_mode(const Config& config, chain::Services& services, ModeState& state,
                        ServerStats& totals) {
  ForwardWorkers& workers = state.workers;
  if (config.mode == Mode::forward) {
    const unsigned loops = forward_loop_count(config.forward_workers);
    ForwardRole role;
    role.share_ports = loops > 1;
    // The other loops share this loop's planner: one health and one round-robin turn for all.
    role.on_listening = [&workers, &services, loops] {
      workers.start(loops - 1, *services.planner);
    };
    co_return co_await run_forward(config, services, totals, std::move(role));
  }
  if (config.mode == Mode::socks) {
    co_return co_await run_socks(config, services, totals);
  }
  if (config.mode == Mode::udp) {
    co_return co_await run_udp(config, services, totals, state.udp);
  }
  if (config.mode == Mode::remote) {
    co_return co_await run_remote(config, services, totals);
  }
  if (config.mode == Mode::redirect) {
    co_return co_await run_redirect(config, services, totals, state.udp);
  }
  if (config.mode == Mode::check) {
    co_return co_await run_check(config, services);
  }
  if (config.mode == Mode::exec) {
    co_return co_await run_exec(config, *state.exec_namespace, services, totals, state.udp);
  }
  const int code = co_await run_stdio(config, services, totals);
  // A pipelining probe of a new hop may still be waiting for its answer. The user's tunnel is
  // done: grant the probes a few milliseconds (a prompt hop's answer is on its way), then
  // abandon them with no verdict recorded, so that the next run probes again.
  if (services.probes != nullptr) {
    co_await services.probes->wait(std::chrono::milliseconds(10));
  }
  co_return code;
}

/// Where a stdio run (one process per connection) keeps TLS sessions between runs; empty for
/// other modes, whose process keeps them in memory, or when HOPCHAIN_NO_TLS_CACHE is set.
std::string tls_sessions_path(const Config& config) {
  const char* off = std::getenv("HOPCHAIN_NO_TLS_CACHE");
  if (config.mode != Mode::stdio || (off != nullptr && off[0] != '\0')) {
    return {};
  }
  return chain::cache_path("tls-sessions");
}

/// Each tunnel takes two sockets (and a pipe per busy direction); servers with thousands of
/// tunnels need more than the usual soft limit of 1024 descriptors.
void raise_fd_limit() {
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// Constructs `slot` in place; if that throws, logs why and returns false.
template <typename T, typename... Args>
bool make_or_log(std::optional<T>& slot, Args&&... args) {
  try {
    slot.emplace(std::forward<Args>(args)...);
    return true;
  } catch (const std::exception& e) {
    log::error(e.what());
    return false;
  }
}

dns::Resolver::Options resolver_options(const Config& config) {
  dns::Resolver::Options options;
  options.servers = config.dns_servers;
  return options;
}

/// SIGINT, SIGTERM and SIGHUP stop the loop; SIGHUP too since ssh ends its ProxyCommand with it,
/// and the tunnel still deserves its close line.
void on_stop_signal(asio::signal_set& signals, asio::io_context& io, const Config& config,
                    int& exit_code) {
  signals.async_wait([&io, &config, &exit_code](const std::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    // A forward, socks, udp or remote server is a service being stopped; an interrupted pipe,
    // or a `remote --once` whose one connection did not finish, is a failed transfer.
    const bool service = is_server(config.mode) && !config.remote_once;
    exit_code = service ? 0 : 128 + signo;
    io.stop();
  });
}

/// Runs the mode on `io` until it ends or a signal stops it; returns the exit status.
int serve(const Config& config, asio::io_context& io, chain::Services& services, ModeState& state,
          ServerStats& totals) {
  UdpTotals& udp = state.udp;
  const auto started = std::chrono::steady_clock::now();
  asio::signal_set usr1(io);
  if (is_server(config.mode)) {
    usr1.add(SIGUSR1);
    on_usr1(usr1, config, totals, udp);
  }
  int exit_code = 1;
  // exec mode forwards these signals to its command (app/signal_forwarding.hpp) and ends with it.
  asio::signal_set signals(io);
  if (config.mode != Mode::exec) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.add(SIGHUP);
    on_stop_signal(signals, io, config, exit_code);
  }
  asio::co_spawn(io, run_mode(config, services, state, totals),
                 [&](std::exception_ptr e, int code) {
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
                   usr1.cancel();
                   io.stop();
                 });
  io.run();
  // The exit status is chosen; a second stop signal (a group kill) must not change it.
  hold_stop_signals();
  state.workers.stop();
  if (udp.serving) {
    log::info("udp: " + udp.datagrams.text());
  }
  if (config.stats && is_server(config.mode)) {
    const auto uptime = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    log::print("totals: " + summary(config, totals, udp) + ", up " + format_duration(uptime));
  }
  return exit_code;
}

}  // namespace

int run(const Config& config) {
  log::set_verbosity(config.verbosity);
  // First: the namespace's child is forked before any thread exists, and inherits the signal
  // dispositions the caller gave hopchain (SIGPIPE's included) for the command.
  std::optional<capture::CaptureNamespace> exec_namespace;
  if (config.mode == Mode::exec) {
    auto started = start_exec_namespace(config);
    if (!started) {
      return started.error();
    }
    exec_namespace.emplace(std::move(*started));
  }
  // Writes to a closed stdout pipe must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  // c-ares is set up first, on this thread, before any other thread exists (cache writer,
  // forward workers).
  std::optional<dns::Library> dns_library;
  if (!make_or_log(dns_library)) {
    return 1;
  }

  // Before the io_context: connections still open when it is destroyed count themselves out.
  ServerStats totals(config.stats);
  UdpTotals udp_totals(config.stats);
  // Before what saves through it: it outlives them and writes what they left pending at exit.
  chain::CacheWriter cache_writer;
  asio::io_context io(1);
  std::optional<dns::Resolver> resolver;
  if (!make_or_log(resolver, io.get_executor(), resolver_options(config))) {
    return 1;
  }
  // TLS files are checked before anything connects; a bad one is a usage error.
  auto hops = chain::compile_hops(config.hops, config.cafile);
  if (!hops) {
    log::error(hops.error());
    return 2;
  }
  chain::Services services{*resolver, config.connect_timeout};
  // Verdicts are learnt, and saved, in automatic mode only; never still reads them: a hop seen
  // to take pipelining reads exactly its request, so sequential requests may carry the user's
  // first bytes behind them.
  chain::PipelineMemory pipeline_memory(config.pipeline != chain::PipelineMode::always
                                            ? chain::PipelineMemory::default_path()
                                            : std::string(),
                                        &cache_writer);
  services.pipeline_mode = config.pipeline;
  services.pipeline_memory = &pipeline_memory;
  chain::ProbeSet probes(io.get_executor());
  services.probes = &probes;
  chain::Planner planner(*hops, config.strategy);
  planner.remember_dead_hops(chain::cache_path("health"), cache_writer);
  services.planner = &planner;
  ForwardWorkers workers(config, pipeline_memory, totals);
  ModeState state{workers, udp_totals, exec_namespace ? &*exec_namespace : nullptr};
  const std::string sessions_path = tls_sessions_path(config);
  if (!sessions_path.empty()) {
    std::string why;
    transport::load_sessions(sessions_path, why);
    if (!why.empty()) {
      log::verbose("tls: ignoring the session cache " + sessions_path + ": " + why);
    }
  }
  const int code = serve(config, io, services, state, totals);
  if (std::string text = transport::render_sessions(); !sessions_path.empty() && !text.empty()) {
    cache_writer.save(sessions_path, std::move(text));  // written before cache_writer goes
  }
  return code;
}

}  // namespace hc::app
