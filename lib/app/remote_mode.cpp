/// remote mode, ssh -R's far end through the chain: the last hop listens (SOCKS BIND), and each
/// connection it accepts is joined to a fresh local TCP connection to the target (or, with
/// --stdio, to stdin/stdout). After each accepted connection a new BIND keeps the service
/// reachable; a BIND listens for one connection only, so each one asks for the port of the one
/// before, which servers that honour DST.PORT (Dante, when the expected peer is 0.0.0.0) keep.
#include <chrono>
#include <iostream>
#include <string>
#include <utility>

#include "app/json_text.hpp"
#include "app/listener.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "chain/bind_at_last_hop.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"
#include "transport/stdio_stream.hpp"

namespace hc::app {
namespace {

constexpr std::chrono::seconds kRebindPause{1};

/// The failure that ended a relay: the direction that failed first carries the real reason; the
/// other one then only sees the abort that followed.
std::error_code relay_failure(const relay::RelayStats& stats) {
  return stats.down.error && stats.down.error != asio::error::operation_aborted ? stats.down.error
                                                                                : stats.up.error;
}

/// The relay of one accepted peer with `local` (stdin/stdout if `stdio`), logged under `who`.
/// True on a clean end.
awaitable<bool> relay_to(chain::LastHopBind& bind, transport::Stream& local, bool stdio,
                         ConnectionStats& report, const std::string& who) {
  relay::RelayOptions options = relay::relay_options_from_environment();
  options.live = report.live();
  const relay::RelayStats stats = co_await relay::relay(bind.stream(), local, options);
  report.closed(stats);
  // With --stdio, a reader of stdout that went away (`| head`) had enough: not a failure.
  if (stdio && stats.up.error == std::errc::broken_pipe) {
    co_return true;
  }
  if (const std::error_code failure = relay_failure(stats)) {
    log::error(who + ": connection lost: " + failure.message());
    co_return false;
  }
  co_return true;
}

/// One accepted peer: a connection to the local target (or stdin/stdout), then the relay.
awaitable<bool> serve_peer(chain::LastHopBind bind, proto::HostPort peer, const Config& config,
                           const chain::Services& shared, ServerStats& totals) {
  chain::Services services = shared;
  services.log_tag = log::next_connection_tag();
  const std::string who = services.log_tag + "remote from " + peer.to_string();
  ConnectionStats report(who, totals);
  if (config.remote_stdio) {
    report.relaying();
    transport::StdioStream local(co_await asio::this_coro::executor);
    co_return co_await relay_to(bind, local, true, report, who);
  }
  // No hop: the target is on this side of the chain.
  chain::ChainResult local = co_await chain::open_chain({}, config.remote_target, services);
  report.chain_done(local);
  if (local.error) {
    log::error(who + ": " + local.error->message());
    co_return false;
  }
  co_return co_await relay_to(bind, *local.stream, false, report, who);
}

awaitable<void> serve_in_background(chain::LastHopBind bind, proto::HostPort peer,
                                    const Config& config, const chain::Services& services,
                                    ServerStats& totals) {
  co_await serve_peer(std::move(bind), std::move(peer), config, services, totals);
}

/// The BIND request's DST: --expect, or anyone at the previous BIND's port (0 the first time),
/// asking the server to listen there again.
proto::HostPort expected_peer(const Config& config, std::uint16_t previous_port) {
  if (config.remote_expect) {
    return *config.remote_expect;
  }
  return {chain::kAnyPeer.host, previous_port};
}

/// The listening line on stderr and, with --json, on stdout; and a word when the port moved.
void announce(const Config& config, const chain::LastHopBind& bind, std::uint16_t previous_port) {
  const proto::HostPort& at = bind.listening();
  log::print("remote: listening at " + at.to_string() + " (" + bind.who() + ")");
  if (!bind.answered_unspecified().empty()) {
    log::info("remote: the hop answered " + bind.answered_unspecified() +
              ", its own address: shown as its host from the URL");
  }
  if (previous_port != 0 && previous_port != at.port) {
    log::info("remote: the hop did not keep port " + std::to_string(previous_port) +
              "; the service moved to " + at.to_string());
  }
  if (config.remote_json) {
    std::cout << "{\"listening\":" << json_string(at.to_string())
              << ",\"hop\":" << json_string(bind.hop_url()) << "}" << std::endl;
  }
}

}  // namespace

awaitable<int> run_remote(const Config& config, chain::Services& services, ServerStats& totals) {
  const chain::Hops& hops = services.planner->hops();
  if (auto refusal = chain::bind_refusal(hops)) {
    log::error("remote: " + *refusal);
    co_return 2;
  }
  const auto ex = co_await asio::this_coro::executor;
  std::uint16_t previous_port = 0;
  for (;;) {
    auto bind =
        co_await chain::LastHopBind::open(hops, services, expected_peer(config, previous_port));
    if (!bind) {
      log::error(bind.error().message());
      co_return 1;
    }
    announce(config, *bind, previous_port);
    previous_port = bind->listening().port;
    auto peer = co_await bind->accept(config.accept_timeout);
    if (!peer) {
      if (config.remote_once) {
        log::error(peer.error().message());
        co_return 1;
      }
      // Nobody came, or the hop gave up on this BIND: a fresh one. A hop that fails every
      // BIND at once is asked again only after a pause, not in a tight loop.
      log::info(peer.error().message() + "; asking for a new one");
      if (peer.error().ec != chain::ChainErrc::timed_out) {
        asio::steady_timer pause(ex, kRebindPause);
        co_await pause.async_wait(nothrow);
      }
      continue;
    }
    log::verbose("remote: connection from " + peer->to_string() + " to " +
                 bind->listening().to_string());
    if (config.remote_once) {
      co_return co_await serve_peer(std::move(*bind), std::move(*peer), config, services, totals)
          ? 0
          : 1;
    }
    asio::co_spawn(
        ex, serve_in_background(std::move(*bind), std::move(*peer), config, services, totals),
        log_task_end);
  }
}

}  // namespace hc::app
