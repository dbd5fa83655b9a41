/// `hopchain udp [BIND:]LPORT:HOST:PORT...`: local UDP ports carried through the chain by nested
/// SOCKS5 UDP ASSOCIATE. Binds every port, proves once that the chain carries UDP (a hop that
/// cannot is named before anything is served; under a non-strict strategy such hops are left
/// out, and only a list with no hop that carries UDP fails), then serves each port until a
/// signal. Every association picks its hops through the strategy (udp/strategy.hpp).
#include <algorithm>
#include <string>
#include <vector>

#include "app/listener.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "app/udp_stats.hpp"
#include "log/log.hpp"
#include "transport/own_endpoints.hpp"
#include "udp/association.hpp"
#include "udp/strategy.hpp"
#include "udp/udp_relay.hpp"

namespace hc::app {
namespace {

/// A target that is one of the ports bound here (by IP literal or localhost) would have every
/// datagram come back as a new one to relay, forever: a proxy loop. The target's name goes to the
/// last hop as written, so only what needs no lookup is compared.
bool loops_back(const std::vector<asio::ip::udp::socket>& sockets, const proto::HostPort& target) {
  transport::OwnEndpoints bound;
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    std::error_code ec;
    const auto local = sockets[i].local_endpoint(ec);
    if (!ec) {
      bound.add(tcp::endpoint(local.address(), local.port()));
    }
  }
  const auto addresses = transport::literal_addresses(target.host);
  return std::any_of(addresses.begin(), addresses.end(), [&](const asio::ip::address& a) {
    return bound.reaches(tcp::endpoint(a, target.port), transport::host_addresses);
  });
}

/// Binds every port of config.udp_forwards, in order. Empty when one cannot be bound (logged).
std::vector<asio::ip::udp::socket> bind_ports(const asio::any_io_executor& ex,
                                              const Config& config) {
  std::vector<asio::ip::udp::socket> sockets;
  // By index: for a range-for here, GCC 12's UBSan reports "reference binding to null pointer"
  // on the loop's iterator (the vector is fine; the report stops every sanitizer build's udp run).
  for (std::size_t i = 0; i < config.udp_forwards.size(); ++i) {
    const ForwardSpec& spec = config.udp_forwards[i];
    std::error_code ec;
    auto socket = udp::open_udp_listener(ex, spec.listen, ec);
    if (ec) {
      log::error("udp: cannot bind " + listen_text(spec.listen) + ": " + ec.message());
      return {};
    }
    sockets.push_back(std::move(socket));
  }
  return sockets;
}

/// Whether some target is one of `sockets` (logged): a proxy loop.
bool any_loops_back(const std::vector<asio::ip::udp::socket>& sockets, const Config& config) {
  for (std::size_t i = 0; i < config.udp_forwards.size(); ++i) {
    const ForwardSpec& spec = config.udp_forwards[i];
    if (loops_back(sockets, spec.target)) {
      log::error("udp: target " + spec.target.to_string() +
                 ": is this process's own listening address (a proxy loop)");
      return true;
    }
  }
  return false;
}

/// One association up front: a hop without UDP must fail now, by name, not on the first
/// datagram of some later client (or, under a non-strict strategy, be left out now).
awaitable<bool> chain_carries_udp(const Config& config, chain::Services& services) {
  if (config.hops.empty()) {
    co_return true;
  }
  auto opened = co_await udp::open_association(services.planner->hops(), services);
  if (opened.error) {
    log::error("udp: " + opened.error->message());
    co_return false;
  }
  log::verbose("udp: the chain carries UDP (" + opened.association->describe() + ")");
  opened.association->close();
  co_return true;
}

/// "directly", "through 2 hop(s)" or "through hops chosen by --strategy random".
std::string route_text(const Config& config) {
  if (config.hops.empty()) {
    return " directly";
  }
  if (config.strategy.strategy == chain::Strategy::strict) {
    return " through " + std::to_string(config.hops.size()) + " hop(s)";
  }
  return " through hops chosen by --strategy " +
         std::string(chain::to_string(config.strategy.strategy));
}

}  // namespace

awaitable<int> run_udp(const Config& config, chain::Services& services, ServerStats& totals,
                       UdpTotals& udp_totals) {
  const auto ex = co_await asio::this_coro::executor;
  std::vector<asio::ip::udp::socket> sockets = bind_ports(ex, config);
  if (sockets.size() != config.udp_forwards.size()) {
    co_return 1;
  }
  if (any_loops_back(sockets, config)) {
    co_return 2;
  }
  if (!co_await chain_carries_udp(config, services)) {
    co_return 1;
  }
  const udp::ForwardOptions options =
      counted_udp_options(config.udp_timeout, config.udp_max_sources, totals);
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    const ForwardSpec& spec = config.udp_forwards[i];
    log::verbose("udp: relaying " + listen_text(spec.listen) + " to " + spec.target.to_string() +
                 route_text(config));
    asio::co_spawn(ex,
                   udp::serve_forward(std::move(sockets[i]), spec.target, services.planner->hops(),
                                      services, options, udp_totals.datagrams),
                   log_task_end);
  }
  udp_totals.serving = true;
  // The ports are served until the io_context stops (a signal).
  asio::steady_timer forever(ex, asio::steady_timer::time_point::max());
  co_await forever.async_wait(nothrow);
  co_return 0;
}

}  // namespace hc::app
