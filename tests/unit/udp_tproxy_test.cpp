#include "capture/udp_tproxy.hpp"

#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

using hc::capture::CapturedDatagram;
using udp = asio::ip::udp;
using Received = hc::Result<CapturedDatagram, std::error_code>;

/// A socket on 127.0.0.1 that is handed each datagram's destination. IP_RECVORIGDSTADDR needs
/// no privilege (IP_TRANSPARENT does): a datagram sent to the socket directly carries the
/// socket's own address, which is enough to check the parsing of the ancillary data.
udp::socket receiver(asio::io_context& io, bool with_destination) {
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int on = 1;
  if (with_destination) {
    BOOST_REQUIRE(
        ::setsockopt(socket.native_handle(), SOL_IP, IP_RECVORIGDSTADDR, &on, sizeof on) == 0);
  }
  return socket;
}

/// Sends `size` bytes from a new socket to `to`, receives them with receive_captured into a
/// buffer of `capacity` bytes; returns what it gave and the sender's endpoint.
Received send_and_receive(asio::io_context& io, udp::socket& to, std::size_t size,
                          std::size_t capacity, udp::endpoint& sender) {
  udp::socket from(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  sender = from.local_endpoint();
  const std::vector<std::uint8_t> payload(size, 0x5a);
  from.send_to(asio::buffer(payload), to.local_endpoint());
  std::vector<std::uint8_t> buffer(capacity);
  std::optional<Received> result;
  asio::co_spawn(
      io,
      [&]() -> hc::awaitable<void> {
        result.emplace(co_await hc::capture::receive_captured(to, buffer));
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  io.restart();
  BOOST_REQUIRE(result.has_value());
  return std::move(*result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(udp_tproxy)

BOOST_AUTO_TEST_CASE(a_datagram_comes_with_its_source_and_destination) {
  asio::io_context io;
  udp::socket socket = receiver(io, true);
  udp::endpoint sender;
  const Received got = send_and_receive(io, socket, 300, 65536, sender);
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->size == 300u);
  BOOST_TEST(got->source == sender);
  BOOST_TEST(got->destination == socket.local_endpoint());
}

BOOST_AUTO_TEST_CASE(a_datagram_without_a_destination_or_too_large_is_an_error) {
  struct Case {
    bool with_destination;
    std::size_t size, capacity;
    int error;
  };
  // Sent to the socket directly without the option: no destination. Larger than the buffer:
  // refused rather than truncated.
  for (const Case c : {Case{false, 10, 65536, EPROTO}, Case{true, 100, 64, EMSGSIZE}}) {
    asio::io_context io;
    udp::socket socket = receiver(io, c.with_destination);
    udp::endpoint sender;
    const Received got = send_and_receive(io, socket, c.size, c.capacity, sender);
    BOOST_REQUIRE(!got.has_value());
    BOOST_TEST(got.error().value() == c.error);
  }
}

BOOST_AUTO_TEST_SUITE_END()
