#include "udp/udp_relay.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <utility>

#include "log/durations.hpp"
#include "log/log.hpp"
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

std::string endpoint_text(const Endpoint& e) {
  auto address = e.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return proto::HostPort{address.to_string(), e.port()}.to_string();
}

/// One local source: its datagrams waiting for the chain, and its counters.
struct Session {
  Session(const asio::any_io_executor& ex, Endpoint from, std::string name,
          const chain::Services& shared)
      : client(from), services(shared), wake(ex, Clock::time_point::max()), quiet(ex) {
    services.log_tag = log::next_connection_tag();
    who = services.log_tag + name;
  }
  Endpoint client;
  chain::Services services;  // its own copy: the tag its chain's log lines carry
  std::string who;           // "[c3] udp 5353 from 127.0.0.1:40000", for logs
  std::deque<std::vector<std::uint8_t>> queue;
  asio::steady_timer wake;  // cancelled when a datagram is queued
  Clock::time_point last_activity = Clock::now();
  Counters counters;
  bool evicted = false;      // ended to make room for a new source
  asio::steady_timer quiet;  // idle()'s timer; cancelled when evicted
};

/// One listening port and the sessions of its sources.
struct Forward {
  Forward(asio::ip::udp::socket socket, proto::HostPort to, chain::Hops chain, chain::Services& s,
          ForwardOptions o, Counters& t)
      : listener(std::move(socket)),
        target(std::move(to)),
        hops(std::move(chain)),
        services(s),
        options(o),
        totals(t) {}
  asio::ip::udp::socket listener;
  proto::HostPort target;
  chain::Hops hops;
  chain::Services& services;
  ForwardOptions options;
  Counters& totals;
  std::string port_text;
  std::map<Endpoint, std::shared_ptr<Session>> sessions;
};

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

/// Local source -> chain. Returns when the association fails or on cancellation.
awaitable<void> pump_up(Forward& f, Session& s, Association& a, const Target& t) {
  for (;;) {
    if (s.queue.empty()) {
      co_await wait_datagram(s);
    } else {
      const std::vector<std::uint8_t> datagram = std::move(s.queue.front());
      s.queue.pop_front();
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

/// Chain -> local source. Returns when the association's socket fails or on cancellation.
awaitable<void> pump_down(Forward& f, Session& s, Association& a, const Target& t) {
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
    } else if (!proto::socks5::udp_address_matches(t.header, r.origin)) {
      count_drop(f, s,
                 "it came from " + r.origin.to_string() + ", not from " + t.header.to_string());
    } else {
      auto [ec, n] = co_await f.listener.async_send_to(
          asio::buffer(r.payload.data(), r.payload.size()), s.client, nothrow);
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

awaitable<void> pause_until(Clock::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(nothrow);
}

/// The association for `s`, or none when it could not be opened.
awaitable<std::unique_ptr<Association>> open_for(Forward& f, Session& s) {
  auto opened = co_await open_association(f.hops, s.services);
  if (opened.error) {
    log::error(s.who + ": " + opened.error->message());
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
  using namespace asio::experimental::awaitable_operators;
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
      auto woke = co_await (wait_datagram(*s) || idle(*s, timeout));
      // A datagram queued just as the timer fired still counts.
      if (s->evicted || (woke.index() == 1 && s->queue.empty())) {
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
    const Target t = co_await a.prepare(f->target);
    if (s->evicted) {
      break;
    }
    if (t.ec) {
      log::error(s->who + ": target " + f->target.to_string() + ": " + t.ec.message());
      count_drop(*f, *s, "target not resolved", s->queue.size());
      s->queue.clear();
      continue;
    }
    log::verbose(s->who + ": association open in " + ms_since(last_open) + ": " + a.describe());
    auto ended = co_await (pump_up(*f, *s, a, t) || pump_down(*f, *s, a, t) || a.wait_closed() ||
                           idle(*s, timeout));
    a.close();
    if (s->evicted || (ended.index() == 3 && s->queue.empty())) {
      break;
    }
    if (ended.index() == 2) {
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
  const auto it = f->sessions.find(s->client);
  if (it != f->sessions.end() && it->second == s) {
    f->sessions.erase(it);
  }
}

/// A full port makes room for `from` by evicting the source idle the longest.
void make_room(Forward& f, const Endpoint& from) {
  std::vector<Clock::time_point> last;
  std::vector<std::map<Endpoint, std::shared_ptr<Session>>::iterator> at;
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

std::optional<std::size_t> source_to_evict(std::span<const Clock::time_point> last_activity,
                                           std::size_t limit) {
  if (last_activity.empty() || last_activity.size() < limit) {
    return std::nullopt;
  }
  const auto idlest = std::min_element(last_activity.begin(), last_activity.end());
  return static_cast<std::size_t>(idlest - last_activity.begin());
}

std::string Counters::text() const {
  return std::to_string(sent) + " sent, " + std::to_string(received) + " received, " +
         std::to_string(dropped) + " dropped";
}

asio::ip::udp::socket open_udp_listener(const asio::any_io_executor& ex,
                                        const proto::HostPort& listen, std::error_code& ec) {
  asio::ip::udp::socket socket(ex);
  ec.clear();
  asio::ip::address address = asio::ip::address_v6::any();
  if (!listen.host.empty()) {
    address = asio::ip::make_address(listen.host, ec);
    if (ec) {
      return socket;
    }
  }
  const Endpoint endpoint(address, listen.port);
  socket.open(endpoint.protocol(), ec);
  if (!ec && listen.host.empty()) {
    // `*` means IPv4 too: one dual-stack socket.
    socket.set_option(asio::ip::v6_only(false), ec);
  }
  // No SO_REUSEADDR: on UDP it would let a second process share the port and split the traffic.
  if (!ec) {
    socket.bind(endpoint, ec);
  }
  if (ec) {
    std::error_code ignored;
    socket.close(ignored);
    return socket;
  }
  std::error_code ignored;
  socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
  return socket;
}

awaitable<void> serve_forward(asio::ip::udp::socket listener, proto::HostPort target,
                              chain::Hops hops, chain::Services& services, ForwardOptions options,
                              Counters& totals) {
  const auto ex = co_await asio::this_coro::executor;
  auto f = std::make_shared<Forward>(std::move(listener), std::move(target), std::move(hops),
                                     services, options, totals);
  std::error_code ec;
  f->port_text = std::to_string(f->listener.local_endpoint(ec).port());
  std::vector<std::uint8_t> buffer(kBufferSize);
  for (;;) {
    Endpoint from;
    auto [rec, n] = co_await f->listener.async_receive_from(asio::buffer(buffer), from, nothrow);
    if (rec == asio::error::operation_aborted || !f->listener.is_open()) {
      co_return;
    }
    if (rec) {
      // A transient error (out of memory, say): keep serving, but do not spin.
      log::error("udp " + f->port_text + ": receive: " + rec.message());
      co_await pause_until(Clock::now() + std::chrono::milliseconds(100));
      continue;
    }
    auto it = f->sessions.find(from);
    if (it == f->sessions.end()) {
      make_room(*f, from);
      auto session = std::make_shared<Session>(
          ex, from, "udp " + f->port_text + " from " + endpoint_text(from), f->services);
      it = f->sessions.emplace(from, session).first;
      asio::co_spawn(ex, run_session(f, std::move(session)), log_session_end);
    }
    Session& s = *it->second;
    s.last_activity = Clock::now();
    if (s.queue.size() >= f->options.queue_limit) {
      count_drop(*f, s, "queue full while the association opens");
      continue;
    }
    s.queue.emplace_back(buffer.begin(), buffer.begin() + static_cast<long>(n));
    s.wake.cancel();
  }
}

}  // namespace hc::udp
