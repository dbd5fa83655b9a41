/// remote mode, ssh -R's far end through the chain: the last hop listens (SOCKS BIND), and each
/// connection it accepts is joined to a fresh local TCP connection to the target. After each
/// accepted connection a new BIND keeps the service reachable, at a new address (a BIND listens
/// for one connection only).
#include <chrono>
#include <string>
#include <utility>

#include "app/listener.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "chain/bind_at_last_hop.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"

namespace hc::app {
namespace {

constexpr std::chrono::seconds kRebindPause{1};

/// The failure that ended a relay: the direction that failed first carries the real reason; the
/// other one then only sees the abort that followed.
std::error_code relay_failure(const relay::RelayStats& stats) {
  return stats.down.error && stats.down.error != asio::error::operation_aborted ? stats.down.error
                                                                                : stats.up.error;
}

/// One accepted peer: a connection to the local target, then the relay. True on a clean end.
awaitable<bool> serve_peer(chain::LastHopBind bind, proto::HostPort peer,
                           const proto::HostPort& target, const chain::Services& shared,
                           ServerStats& totals) {
  chain::Services services = shared;
  services.log_tag = log::next_connection_tag();
  const std::string who = services.log_tag + "remote from " + peer.to_string();
  ConnectionStats report(who, totals);
  // No hop: the target is on this side of the chain.
  chain::ChainResult local = co_await chain::open_chain({}, target, services);
  if (local.error) {
    log::error(who + ": " + local.error->message());
    co_return false;
  }
  relay::RelayOptions options = relay::relay_options_from_environment();
  options.live = report.live();
  const relay::RelayStats stats = co_await relay::relay(bind.stream(), *local.stream, options);
  report.closed(stats.up.bytes, stats.down.bytes);
  if (const std::error_code failure = relay_failure(stats)) {
    log::error(who + ": connection lost: " + failure.message());
    co_return false;
  }
  co_return true;
}

awaitable<void> serve_in_background(chain::LastHopBind bind, proto::HostPort peer,
                                    const proto::HostPort& target, const chain::Services& services,
                                    ServerStats& totals) {
  co_await serve_peer(std::move(bind), std::move(peer), target, services, totals);
}

}  // namespace

awaitable<int> run_remote(const Config& config, chain::Services& services, ServerStats& totals) {
  const chain::Hops& hops = services.planner->hops();
  if (auto refusal = chain::bind_refusal(hops)) {
    log::error(*refusal);
    co_return 2;
  }
  const auto ex = co_await asio::this_coro::executor;
  for (;;) {
    auto bind = co_await chain::LastHopBind::open(hops, services);
    if (!bind) {
      log::error(bind.error().message());
      co_return 1;
    }
    log::print("remote: listening at " + bind->listening().to_string() + " (" + bind->who() + ")");
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
      co_return co_await serve_peer(std::move(*bind), std::move(*peer), config.remote_target,
                                    services, totals)
          ? 0
          : 1;
    }
    asio::co_spawn(ex,
                   serve_in_background(std::move(*bind), std::move(*peer), config.remote_target,
                                       services, totals),
                   log_task_end);
  }
}

}  // namespace hc::app
