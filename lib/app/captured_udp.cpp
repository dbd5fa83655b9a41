#include "app/captured_udp.hpp"

#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "app/udp_stats.hpp"
#include "capture/udp_tproxy.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "transport/own_endpoints.hpp"
#include "udp/flows.hpp"

namespace hc::app {
namespace {

// Every UDP datagram fits (65535 minus the UDP header at most).
constexpr std::size_t kBufferSize = 65536;
// Destinations remembered as already named in an error line.
constexpr std::size_t kMaxReported = 4096;
// Reply sockets open at once, one per destination in use by any flow: each is a descriptor, and a
// program that sends to every address it can think of must not exhaust them.
constexpr std::size_t kMaxReplySockets = 1024;

/// What the flows of one capture socket share.
struct Capture {
  Capture(asio::ip::udp::socket s, CaptureUdpFront f) : socket(std::move(s)), front(std::move(f)) {}
  asio::ip::udp::socket socket;
  CaptureUdpFront front;
  UdpEndpoint bound;
  /// Destinations already named in an error line: the next failures for them are verbose only.
  std::set<std::string> reported;
  /// Each destination's reply socket, shared by its flows while any lives.
  std::map<UdpEndpoint, std::weak_ptr<asio::ip::udp::socket>> replies;
};

/// An error about `key` once, then only with -v: a program that keeps sending to a
/// destination the chain cannot reach would otherwise fill the log.
void report_once(Capture& c, const std::string& key, const std::string& line) {
  if (c.reported.size() >= kMaxReported) {
    c.reported.clear();  // bounded: a destination may then be named once more
  }
  if (c.reported.insert(key).second) {
    log::error(line);
  } else {
    log::verbose(line + " (again)");
  }
}

/// A datagram sent to the capture socket itself: following it would send it here again.
bool is_own_socket(const Capture& c, const UdpEndpoint& destination) {
  if (destination.port() != c.bound.port()) {
    return false;
  }
  if (c.bound.address().is_unspecified()) {
    return transport::is_this_host(destination.address());
  }
  return udp::normalized(destination).address() == udp::normalized(c.bound).address();
}

std::shared_ptr<asio::ip::udp::socket> reply_socket(Capture& c, const UdpEndpoint& destination,
                                                    std::error_code& ec) {
  if (c.replies.size() >= kMaxReplySockets) {
    std::erase_if(c.replies, [](const auto& entry) { return entry.second.expired(); });
  }
  if (c.replies.size() >= kMaxReplySockets && !c.replies.contains(destination)) {
    ec = std::make_error_code(std::errc::too_many_files_open);
    return nullptr;
  }
  auto& slot = c.replies[destination];
  if (auto shared = slot.lock()) {
    return shared;
  }
  auto socket = c.front.reply_socket
                    ? c.front.reply_socket(destination, ec)
                    : capture::open_reply_socket(c.socket.get_executor(), destination, ec);
  if (ec) {
    c.replies.erase(destination);
    return nullptr;
  }
  auto shared = std::make_shared<asio::ip::udp::socket>(std::move(socket));
  slot = shared;
  return shared;
}

/// Where datagrams from d.source to d.destination go and the socket their replies leave from, or
/// nullopt (logged) when they must be dropped.
std::optional<udp::FlowRoute> route_for(Capture& c, const capture::CapturedDatagram& d) {
  const std::string flow = c.front.label + ": udp " + udp::endpoint_text(d.source) + " -> " +
                           udp::endpoint_text(d.destination);
  if (is_own_socket(c, d.destination)) {
    report_once(c, udp::endpoint_text(d.destination),
                flow + ": the destination is this socket itself (a loop); dropped");
    return std::nullopt;
  }
  std::optional<proto::HostPort> target =
      c.front.target ? c.front.target(d.destination)
                     : proto::HostPort{d.destination.address().to_string(), d.destination.port()};
  if (!target) {
    return std::nullopt;
  }
  std::error_code ec;
  auto reply = reply_socket(c, d.destination, ec);
  if (!reply) {
    const std::string why = ec == std::errc::too_many_files_open
                                ? std::to_string(kMaxReplySockets) + " destinations in use"
                                : ec.message();
    report_once(c, udp::endpoint_text(d.destination),
                flow + ": cannot reply from the destination (" + why + "); dropped");
    return std::nullopt;
  }
  log::verbose(flow + (target->host == d.destination.address().to_string()
                           ? std::string()
                           : " (" + target->to_string() + ")"));
  return udp::FlowRoute{std::move(*target), std::move(reply)};
}

/// Counts like `udp` mode; an association that cannot be opened is named once per target.
udp::ForwardOptions flow_options(const std::shared_ptr<Capture>& c, ServerStats& totals) {
  udp::ForwardOptions options =
      counted_udp_options(c->front.idle_timeout, c->front.max_flows, totals);
  std::weak_ptr<Capture> weak = c;
  options.hooks.open_failed = [weak](const std::string& who, const proto::HostPort& target,
                                     const chain::ChainError& error) {
    const std::string line =
        who + " -> " + target.to_string() + ": datagrams dropped: " + error.message();
    if (auto capture = weak.lock()) {
      report_once(*capture, target.to_string(), line);
    } else {
      log::verbose(line);
    }
  };
  return options;
}

/// A receive that failed; false when the socket is gone (the loop ends).
awaitable<bool> after_receive_error(Capture& c, const std::error_code& ec,
                                    udp::Counters& datagrams) {
  if (ec == asio::error::operation_aborted || !c.socket.is_open()) {
    co_return false;
  }
  ++datagrams.dropped;
  if (ec.value() == EPROTO) {
    log::verbose(c.front.label + ": a datagram without an original destination (sent here " +
                 "directly, not by a rule); dropped");
  } else if (ec.value() == EMSGSIZE) {
    log::verbose(c.front.label + ": a datagram too large; dropped");
  } else {
    // A transient error (out of memory, say): keep serving, but do not spin.
    log::error(c.front.label + ": udp receive: " + ec.message());
    co_await udp::pause_for(std::chrono::milliseconds(100));
  }
  co_return true;
}

}  // namespace

awaitable<void> serve_captured_udp(asio::ip::udp::socket capture, CaptureUdpFront front,
                                   chain::Services& services, ServerStats& totals,
                                   udp::Counters& datagrams) {
  const auto ex = co_await asio::this_coro::executor;
  auto c = std::make_shared<Capture>(std::move(capture), std::move(front));
  std::error_code ignored;
  c->bound = c->socket.local_endpoint(ignored);
  auto table = udp::make_flow_table(ex, services.planner->hops(), services, flow_options(c, totals),
                                    datagrams);
  std::vector<std::uint8_t> buffer(kBufferSize);
  for (;;) {
    auto received = co_await capture::receive_captured(c->socket, buffer);
    if (!received) {
      if (!co_await after_receive_error(*c, received.error(), datagrams)) {
        co_return;
      }
      continue;
    }
    const capture::CapturedDatagram& d = *received;
    // One flow per source, whatever it sends to: one association, one address seen outside.
    const auto add_route = [&] { return route_for(*c, d); };
    const auto start = [&]() -> std::optional<udp::FlowStart> {
      std::optional<udp::FlowRoute> route = add_route();
      if (!route) {
        return std::nullopt;
      }
      return udp::FlowStart{std::move(*route),
                            c->front.label + ": udp " + udp::endpoint_text(d.source)};
    };
    udp::push_datagram(table, udp::FlowKey{d.source}, d.destination,
                       std::span<const std::uint8_t>(buffer.data(), d.size), start, add_route);
  }
}

}  // namespace hc::app
