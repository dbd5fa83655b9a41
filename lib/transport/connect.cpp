#include "transport/connect.hpp"

#include "transport/deadline.hpp"

namespace hc::transport {
namespace {

awaitable<std::error_code> connect_one(tcp::socket& socket, tcp::endpoint endpoint) {
  auto [ec] = co_await socket.async_connect(endpoint, nothrow);
  co_return ec;
}

}  // namespace

awaitable<std::error_code> connect_any(tcp::socket& socket,
                                       std::vector<asio::ip::address> addresses, std::uint16_t port,
                                       std::chrono::steady_clock::duration timeout) {
  std::error_code last = asio::error::host_not_found;
  for (const auto& address : addresses) {
    std::error_code ignored;
    socket.close(ignored);
    auto result = co_await with_deadline(socket, timeout, connect_one(socket, {address, port}));
    if (!result) {
      last = asio::error::timed_out;
      continue;
    }
    last = *result;
    if (!last) {
      // Handshakes are many small messages; do not let Nagle hold them back.
      socket.set_option(tcp::no_delay(true), ignored);
      co_return std::error_code{};
    }
  }
  std::error_code ignored;
  socket.close(ignored);
  co_return last;
}

}  // namespace hc::transport
