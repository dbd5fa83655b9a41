#include "transport/stream.hpp"

namespace hc::transport {

awaitable<IoResult> Stream::read_exactly(std::span<std::uint8_t> buffer) {
  std::size_t total = 0;
  while (total < buffer.size()) {
    auto [ec, n] = co_await read_some(buffer.subspan(total));
    total += n;
    if (ec) {
      co_return IoResult{ec, total};
    }
  }
  co_return IoResult{std::error_code{}, total};
}

awaitable<IoResult> TcpStream::read_some(std::span<std::uint8_t> buffer) {
  auto [ec, n] =
      co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), nothrow);
  co_return IoResult{ec, n};
}

awaitable<IoResult> TcpStream::write_all(std::span<const std::uint8_t> data) {
  auto [ec, n] =
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), nothrow);
  co_return IoResult{ec, n};
}

awaitable<std::error_code> TcpStream::shutdown_send() {
  std::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  co_return ec;
}

awaitable<std::error_code> TcpStream::wait_readable() {
  auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, nothrow);
  co_return ec;
}

awaitable<std::error_code> TcpStream::wait_writable() {
  auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, nothrow);
  co_return ec;
}

void TcpStream::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

}  // namespace hc::transport
