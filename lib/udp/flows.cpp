#include "udp/flows.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "log/durations.hpp"
#include "log/log.hpp"
#include "transport/first_to_end.hpp"
#include "udp/association.hpp"
#include "udp/strategy.hpp"

namespace hc::udp {
namespace {

using log::ms_since;

using Clock = std::chrono::steady_clock;

// Every UDP datagram fits (65535 minus the UDP header at most), so recvfrom never truncates.
constexpr std::size_t kBufferSize = 65536;
// An association that is lost or fails sooner than this is not reopened sooner than this, so a
// hop that accepts and then drops every association cannot make us spin.
constexpr auto kMinReopenInterval = std::chrono::seconds(1);

/// One destination of a flow.
struct Route {
  FlowRoute where;
  std::optional<Target> prepared;  // as the current association names it; reset for each one
  Clock::time_point prepared_at;
};

struct Queued {
  Endpoint destination;
  std::vector<std::uint8_t> bytes;
};

/// One local source: its routes, its datagrams waiting for the chain, and its counters.
struct Session {
  Session(const asio::any_io_executor& ex, FlowKey flow, const Endpoint& destination,
          FlowStart start, const chain::Services& shared)
      : key(flow),
        first_target(start.route.target),
        services(shared),
        wake(ex, Clock::time_point::max()),
        quiet(ex) {
    routes.emplace(destination, Route{std::move(start.route), std::nullopt, {}});
    services.log_tag = log::next_connection_tag();
    who = services.log_tag + start.name;
  }
  FlowKey key;
  proto::HostPort first_target;  // named when its association cannot be opened
  std::map<Endpoint, Route> routes;
  chain::Services services;  // its own copy: the tag its chain's log lines carry
  std::string who;           // "[c3] udp 5353 from 127.0.0.1:40000", for logs
  std::deque<Queued> queue;
  asio::steady_timer wake;  // cancelled when a datagram is queued
  Clock::time_point last_activity = Clock::now();
  Counters counters;
  bool evicted = false;      // ended to make room for a new source
  asio::steady_timer quiet;  // idle()'s timer; cancelled when evicted
};

}  // namespace

/// One front end's flows.
class FlowTable {
 public:
  FlowTable(asio::any_io_executor e, chain::Hops chain, chain::Services& s, ForwardOptions o,
            Counters& t)
      : ex(std::move(e)), hops(std::move(chain)), services(s), options(std::move(o)), totals(t) {}
  asio::any_io_executor ex;
  chain::Hops hops;
  chain::Services& services;
  ForwardOptions options;
  Counters& totals;
  std::map<FlowKey, std::shared_ptr<Session>> sessions;
};

namespace {

using Forward = FlowTable;

void count_drop(Forward& f, Session& s, const std::string& why, std::uint64_t count = 1) {
  if (count == 0) {
    return;
  }
  s.counters.dropped += count;
  f.totals.dropped += count;
  log::verbose(s.who + ": " +
               (count == 1 ? std::string("datagram") : std::to_string(count) + " datagrams") +
               " dropped: " + why);
}

/// Returns once a datagram is queued (or when cancelled).
awaitable<void> wait_datagram(Session& s) {
  while (s.queue.empty()) {
    s.wake.expires_at(Clock::time_point::max());
    co_await s.wake.async_wait(nothrow);
    // Only a push (which queues first) or a cancellation ends the wait.
    if (s.queue.empty()) {
      co_return;
    }
  }
}

/// Returns once nothing went either way for `timeout`, or the session is evicted (or when
/// cancelled).
awaitable<void> idle(Session& s, std::chrono::milliseconds timeout) {
  for (;;) {
    const auto deadline = s.last_activity + timeout;
    if (s.evicted || Clock::now() >= deadline) {
      co_return;
    }
    s.quiet.expires_at(deadline);
    auto [ec] = co_await s.quiet.async_wait(nothrow);
    if (ec) {
      co_return;
    }
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

/// The route's target as `a` names it, prepared on its first datagram; nullptr (logged, once per
/// association) when it cannot be resolved.
awaitable<const Target*> prepared_target(Session& s, Route& route, Association& a) {
  // A name that did not resolve is tried again, but not for every datagram.
  const bool retry = route.prepared && route.prepared->ec &&
                     Clock::now() >= route.prepared_at + kMinReopenInterval;
  if (!route.prepared || retry) {
    route.prepared_at = Clock::now();
    Target t = co_await a.prepare(route.where.target);
    if (t.ec) {
      log::error(s.who + ": target " + route.where.target.to_string() + ": " + t.ec.message());
    }
    route.prepared = std::move(t);
  }
  co_return route.prepared->ec ? nullptr : &*route.prepared;
}

/// Local source -> chain. Returns when the association fails or on cancellation.
awaitable<void> pump_up(Forward& f, Session& s, Association& a) {
  for (;;) {
    if (s.queue.empty()) {
      co_await wait_datagram(s);
    } else {
      const Queued queued = std::move(s.queue.front());
      s.queue.pop_front();
      const std::vector<std::uint8_t>& datagram = queued.bytes;
      // Routes are only ever added while the flow lives: the reference stays valid.
      Route& route = s.routes.at(queued.destination);
      const Target* target = co_await prepared_target(s, route, a);
      if (target == nullptr) {
        count_drop(f, s, "target " + route.where.target.to_string() + " not resolved");
        continue;
      }
      const Target& t = *target;
      const SendResult r = co_await a.send(t, datagram);
      if (r.status == SendStatus::sent) {
        ++s.counters.sent;
        ++f.totals.sent;
        s.counters.bytes_sent += datagram.size();
        f.totals.bytes_sent += datagram.size();
      } else if (r.status == SendStatus::too_large) {
        count_drop(f, s,
                   std::to_string(datagram.size()) + " bytes are " + std::to_string(r.size) +
                       " with the chain's headers, over the " +
                       std::to_string(max_datagram(a.hops() ? a.first_relay() : t.endpoint)) +
                       "-byte UDP limit");
      } else {
        count_drop(f, s, "send failed: " + r.ec.message());
        if (r.ec != asio::error::operation_aborted) {
          log::error(s.who + ": sending to the chain failed: " + r.ec.message());
        }
        co_return;
      }
    }
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

/// The route a reply from `origin` belongs to: the one whose address it is, else one sent to by
/// name on its port (a name comes back as the address the hop resolved it to); nullptr if none.
const Route* route_of(const Session& s, const proto::HostPort& origin) {
  const Route* by_name = nullptr;
  for (const auto& [destination, route] : s.routes) {
    if (!route.prepared || route.prepared->ec ||
        !proto::socks5::udp_address_matches(route.prepared->header, origin)) {
      continue;
    }
    asio::error_code not_ip;
    asio::ip::make_address(route.prepared->header.host, not_ip);
    if (!not_ip) {
      return &route;
    }
    by_name = by_name != nullptr ? by_name : &route;
  }
  return by_name;
}

std::string expected_origins(const Session& s) {
  if (s.routes.size() == 1 && s.routes.begin()->second.prepared) {
    return s.routes.begin()->second.prepared->header.to_string();
  }
  return "any destination of this flow";
}

/// Chain -> local source. Returns when the association's socket fails or on cancellation.
awaitable<void> pump_down(Forward& f, Session& s, Association& a) {
  std::vector<std::uint8_t> buffer(kBufferSize);
  for (;;) {
    const Received r = co_await a.receive(buffer);
    if (r.ec) {
      if (r.ec != asio::error::operation_aborted) {
        log::error(s.who + ": receiving from the chain failed: " + r.ec.message());
      }
      co_return;
    }
    if (r.wrong_source) {
      count_drop(f, s, "it came from " + endpoint_text(r.from) + ", " + wrong_source_text(a));
    } else if (r.drop != proto::socks5::UdpDrop::none) {
      count_drop(f, s,
                 "reply header " + std::to_string(r.layer + 1) + ": " +
                     std::string(proto::socks5::to_string(r.drop)));
    } else if (const Route* route = route_of(s, r.origin); route == nullptr) {
      count_drop(f, s,
                 "it came from " + r.origin.to_string() + ", not from " + expected_origins(s));
    } else {
      auto [ec, n] = co_await route->where.reply->async_send_to(
          asio::buffer(r.payload.data(), r.payload.size()), s.key.source, nothrow);
      if (ec) {
        count_drop(f, s, "cannot deliver it locally: " + ec.message());
      } else {
        ++s.counters.received;
        ++f.totals.received;
        s.counters.bytes_received += r.payload.size();
        f.totals.bytes_received += r.payload.size();
        s.last_activity = Clock::now();
      }
    }
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

/// Whether `s` went idle (or was evicted) before a datagram was queued.
awaitable<bool> went_idle(Session& s, std::chrono::milliseconds timeout) {
  // Tasks rather than `||` (here and in pump_both_ways): see transport/first_to_end.hpp.
  std::vector<transport::Task> waits;
  waits.emplace_back([&s] { return wait_datagram(s); });
  waits.emplace_back([&s, timeout] { return idle(s, timeout); });
  const std::size_t first = co_await transport::first_to_end(waits);
  co_return first == 1;
}

/// What ended an association's pumping: the tasks of pump_both_ways, in order.
enum class Ended : std::size_t { pump_up, pump_down, lost, idle };

/// Datagrams both ways until a pump ends, a control connection closes or the source goes idle.
awaitable<Ended> pump_both_ways(Forward& f, Session& s, Association& a,
                                std::chrono::milliseconds timeout) {
  std::vector<transport::Task> tasks;
  tasks.emplace_back([&f, &s, &a] { return pump_up(f, s, a); });
  tasks.emplace_back([&f, &s, &a] { return pump_down(f, s, a); });
  tasks.emplace_back([&a] { return a.wait_closed(); });
  tasks.emplace_back([&s, timeout] { return idle(s, timeout); });
  const std::size_t first = co_await transport::first_to_end(tasks);
  co_return static_cast<Ended>(first);
}

awaitable<void> pause_until(Clock::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(nothrow);
}

/// The association for `s`, or none when it could not be opened.
awaitable<std::unique_ptr<Association>> open_for(Forward& f, Session& s) {
  auto opened = co_await open_association(f.hops, s.services);
  if (opened.error) {
    if (f.options.hooks.open_failed) {
      f.options.hooks.open_failed(s.who, s.first_target, *opened.error);
    } else {
      log::error(s.who + ": " + opened.error->message());
    }
    if (f.options.hooks.failed) {
      f.options.hooks.failed(*opened.error);
    }
    count_drop(f, s, "no association", s.queue.size());
    s.queue.clear();
    co_return nullptr;
  }
  co_return std::move(opened.association);
}

/// One local source's life: open an association when there is something to send, pump both ways
/// until the association is lost, the source goes idle or a new source evicts it.
awaitable<void> run_session(std::shared_ptr<Forward> f, std::shared_ptr<Session> s) {
  const auto timeout = f->options.idle_timeout;
  const auto session_started = Clock::now();
  if (f->options.hooks.opened) {
    f->options.hooks.opened();
  }
  Clock::time_point last_open{};
  for (;;) {
    if (s->evicted) {
      break;
    }
    if (s->queue.empty()) {
      const bool idle_first = co_await went_idle(*s, timeout);
      // A datagram queued just as the timer fired still counts.
      if (s->evicted || (idle_first && s->queue.empty())) {
        break;
      }
    }
    if (Clock::now() < last_open + kMinReopenInterval) {
      co_await pause_until(last_open + kMinReopenInterval);
    }
    last_open = Clock::now();
    if (s->evicted) {
      break;  // while it paused: open nothing through the chain for it
    }
    const auto association = co_await open_for(*f, *s);
    if (s->evicted) {
      break;  // while it opened: `association` closes as it goes
    }
    if (!association) {
      continue;
    }
    Association& a = *association;
    for (auto& [destination, route] : s->routes) {
      route.prepared.reset();  // this association may resolve (or name) them differently
    }
    log::verbose(s->who + ": association open in " + ms_since(last_open) + ": " + a.describe());
    const Ended ended = co_await pump_both_ways(*f, *s, a, timeout);
    a.close();
    if (s->evicted || (ended == Ended::idle && s->queue.empty())) {
      break;
    }
    if (ended == Ended::lost) {
      log::info(s->who + ": association lost (a control connection closed); the next datagram " +
                "opens a new one");
    }
  }
  if (s->evicted) {
    count_drop(*f, *s, "the source was evicted", s->queue.size());
  }
  log::verbose(s->who +
               (s->evicted ? std::string(": evicted for a new source")
                           : ": idle for " + std::to_string(timeout.count()) + " ms") +
               ", closed: " + s->counters.text());
  if (f->options.hooks.closed) {
    f->options.hooks.closed(
        s->who, s->counters,
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - session_started));
  }
  const auto it = f->sessions.find(s->key);
  if (it != f->sessions.end() && it->second == s) {
    f->sessions.erase(it);
  }
}

/// A full port makes room for `from` by evicting the source idle the longest.
void make_room(Forward& f, const Endpoint& from) {
  std::vector<Clock::time_point> last;
  std::vector<std::map<FlowKey, std::shared_ptr<Session>>::iterator> at;
  for (auto it = f.sessions.begin(); it != f.sessions.end(); ++it) {
    last.push_back(it->second->last_activity);
    at.push_back(it);
  }
  const auto victim = source_to_evict(last, f.options.max_sources);
  if (!victim) {
    return;
  }
  Session& s = *at[*victim]->second;
  const auto idle_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - s.last_activity);
  log::verbose(
      s.who + ": evicted for " + endpoint_text(from) + " after " + std::to_string(idle_ms.count()) +
      " ms idle: " + std::to_string(f.options.max_sources) + " sources served (--udp-max-sources)");
  s.evicted = true;
  s.quiet.cancel();
  f.sessions.erase(at[*victim]);
}

void log_session_end(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error(std::string("UDP session ended by an internal error: ") + ex.what());
  }
}

}  // namespace

std::string endpoint_text(const Endpoint& e) {
  auto address = e.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return proto::HostPort{address.to_string(), e.port()}.to_string();
}

std::shared_ptr<FlowTable> make_flow_table(const asio::any_io_executor& ex, chain::Hops hops,
                                           chain::Services& services, ForwardOptions options,
                                           Counters& totals) {
  return std::make_shared<FlowTable>(ex, std::move(hops), services, std::move(options), totals);
}

/// Whether `s` has a route to `destination` now, adding one with `add_route` if it may.
bool has_route(Forward& f, Session& s, const Endpoint& destination, const RouteStarter& add_route) {
  if (s.routes.contains(destination)) {
    return true;
  }
  if (s.routes.size() >= kMaxFlowRoutes) {
    count_drop(f, s, std::to_string(kMaxFlowRoutes) + " destinations served for this source");
    return false;
  }
  std::optional<FlowRoute> route = add_route ? add_route() : std::nullopt;
  if (!route) {
    ++s.counters.dropped;
    ++f.totals.dropped;
    return false;
  }
  s.routes.emplace(destination, Route{std::move(*route), std::nullopt, {}});
  return true;
}

void push_datagram(const std::shared_ptr<FlowTable>& table, const FlowKey& key,
                   const Endpoint& destination, std::span<const std::uint8_t> datagram,
                   const FlowStarter& start, const RouteStarter& add_route) {
  FlowTable& f = *table;
  auto it = f.sessions.find(key);
  if (it == f.sessions.end()) {
    std::optional<FlowStart> started = start();
    if (!started) {
      ++f.totals.dropped;
      return;
    }
    make_room(f, key.source);
    auto session =
        std::make_shared<Session>(f.ex, key, destination, std::move(*started), f.services);
    it = f.sessions.emplace(key, session).first;
    asio::co_spawn(f.ex, run_session(table, std::move(session)), log_session_end);
  } else if (!has_route(f, *it->second, destination, add_route)) {
    return;
  }
  Session& s = *it->second;
  s.last_activity = Clock::now();
  if (s.queue.size() >= f.options.queue_limit) {
    count_drop(f, s, "queue full while the association opens");
    return;
  }
  s.queue.push_back(Queued{destination, {datagram.begin(), datagram.end()}});
  s.wake.cancel();
}

awaitable<void> pause_for(std::chrono::milliseconds delay) {
  co_await pause_until(Clock::now() + delay);
}

}  // namespace hc::udp
