// splice_until_eof's own paths, below the relay: a destination that cannot splice gets the bytes
// already in the pipe by copy, and the result says `unsupported` so that the caller copies on.
#include "relay/splice.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

using hc::awaitable;
using hc::nothrow;
using hc::tcp;
using Bytes = std::vector<std::uint8_t>;

/// A socket to read from and a regular file to write to. splice(2) refuses a file opened for
/// appending (EINVAL), as it refuses a tty.
class SocketToFile final : public hc::transport::RawIo {
 public:
  SocketToFile(tcp::socket& from, int file) : from_(from), file_(file) {}
  int read_fd() override { return from_.native_handle(); }
  int write_fd() override { return file_; }
  awaitable<std::error_code> wait_readable() override {
    auto [ec] = co_await from_.async_wait(tcp::socket::wait_read, nothrow);
    co_return ec;
  }
  awaitable<std::error_code> wait_writable() override { co_return std::error_code(); }
  void notify_readable(ReadyCallback ready) override {
    from_.async_wait(tcp::socket::wait_read, std::move(ready));
  }

 private:
  tcp::socket& from_;
  int file_;
};

awaitable<void> send_then_splice(tcp::socket& near, hc::transport::RawIo& io, Bytes data,
                                 hc::relay::SpliceResult& result, std::uint64_t& progress) {
  co_await asio::async_write(near, asio::buffer(data), nothrow);
  std::error_code ignored;
  near.shutdown(tcp::socket::shutdown_send, ignored);
  result = co_await hc::relay::splice_until_eof(io, io, &progress);
}

Bytes file_contents(int fd) {
  Bytes out(1 << 16);
  const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_destination_that_cannot_splice_gets_the_piped_bytes_by_copy) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket near(io), far(io);
  near.connect(acceptor.local_endpoint());
  acceptor.accept(far);
  std::string path = "/tmp/hc_splice_test_XXXXXX";
  const int made = ::mkstemp(path.data());
  BOOST_REQUIRE(made >= 0);
  ::close(made);
  const int file = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  BOOST_REQUIRE(file >= 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ::unlink(path.c_str());
  BOOST_REQUIRE(reader >= 0);

  Bytes data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::uint8_t>(i * 7);
  }
  SocketToFile ends(far, file);
  hc::relay::SpliceResult result;
  std::uint64_t progress = 0;
  asio::co_spawn(io, send_then_splice(near, ends, data, result, progress), asio::detached);
  io.run_for(std::chrono::seconds(10));

  // The 1000 bytes came in one splice (less than a pipe holds), so all went out by copy.
  BOOST_TEST((result.outcome == hc::relay::SpliceOutcome::unsupported));
  BOOST_TEST(result.bytes == data.size());
  BOOST_TEST(progress == data.size());
  BOOST_TEST(file_contents(reader) == data, boost::test_tools::per_element());
  ::close(file);
  ::close(reader);
}
