#include "transport/stdio_stream.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace hc::transport {
namespace {

// Private descriptors, so that closing ours ends the output even if fd 1 were inherited twice.
int duplicate(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) {
    throw std::system_error(errno, std::generic_category(), "dup");
  }
  return copy;
}

void set_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK)) {
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
}

}  // namespace

StdioStream::StdioStream(const asio::any_io_executor& ex)
    : in_(ex, duplicate(STDIN_FILENO)), out_(ex, duplicate(STDOUT_FILENO)) {
  // Our duplicates share the file description, so closing fd 1 alone would not signal EOF.
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, STDOUT_FILENO);
    ::close(devnull);
  }
}

// Asio makes the descriptors non-blocking, which changes the file descriptions we share with a
// shell or ssh; put them back as they were.
StdioStream::~StdioStream() {
  if (in_.is_open()) {
    set_blocking(in_.native_handle());
  }
  if (out_.is_open()) {
    set_blocking(out_.native_handle());
  }
}

awaitable<IoResult> StdioStream::read_some(std::span<std::uint8_t> buffer) {
  auto [ec, n] = co_await in_.async_read_some(asio::buffer(buffer.data(), buffer.size()), nothrow);
  co_return IoResult{ec, n};
}

awaitable<IoResult> StdioStream::write_all(std::span<const std::uint8_t> data) {
  auto [ec, n] = co_await asio::async_write(out_, asio::buffer(data.data(), data.size()), nothrow);
  co_return IoResult{ec, n};
}

awaitable<std::error_code> StdioStream::shutdown_send() {
  std::error_code ec;
  if (out_.is_open()) {
    set_blocking(out_.native_handle());
    out_.close(ec);
  }
  co_return ec;
}

awaitable<std::error_code> StdioStream::wait_readable() {
  auto [ec] = co_await in_.async_wait(asio::posix::descriptor_base::wait_read, nothrow);
  co_return ec;
}

awaitable<std::error_code> StdioStream::wait_writable() {
  auto [ec] = co_await out_.async_wait(asio::posix::descriptor_base::wait_write, nothrow);
  co_return ec;
}

void StdioStream::close() {
  std::error_code ignored;
  in_.close(ignored);
  out_.close(ignored);
}

}  // namespace hc::transport
