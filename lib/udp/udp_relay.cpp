#include "udp/udp_relay.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "log/log.hpp"
#include "udp/flows.hpp"

namespace hc::udp {
namespace {

using Clock = std::chrono::steady_clock;

// Every UDP datagram fits (65535 minus the UDP header at most), so recvfrom never truncates.
constexpr std::size_t kBufferSize = 65536;

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
  auto socket = std::make_shared<asio::ip::udp::socket>(std::move(listener));
  auto table = make_flow_table(ex, std::move(hops), services, std::move(options), totals);
  std::error_code ec;
  const std::string port_text = std::to_string(socket->local_endpoint(ec).port());
  std::vector<std::uint8_t> buffer(kBufferSize);
  for (;;) {
    Endpoint from;
    auto [rec, n] = co_await socket->async_receive_from(asio::buffer(buffer), from, nothrow);
    if (rec == asio::error::operation_aborted || !socket->is_open()) {
      co_return;
    }
    if (rec) {
      // A transient error (out of memory, say): keep serving, but do not spin.
      log::error("udp " + port_text + ": receive: " + rec.message());
      co_await pause_for(std::chrono::milliseconds(100));
      continue;
    }
    push_datagram(table, FlowKey{from}, {}, std::span<const std::uint8_t>(buffer.data(), n), [&] {
      return FlowStart{{target, socket}, "udp " + port_text + " from " + endpoint_text(from)};
    });
  }
}

}  // namespace hc::udp
