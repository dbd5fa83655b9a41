/// with_deadline: an operation that ends in time keeps its socket and result; one that does not
/// is ended by closing the socket; an operation that completes without ever suspending (a
/// connect that fails at once, as with EMFILE) leaves nothing behind, even with the timer
/// already expired; and many deadlines in a row on one socket do not disturb each other.
#include "transport/deadline.hpp"

#include <chrono>
#include <optional>

#include <boost/test/unit_test.hpp>

using asio::awaitable;
using hc::nothrow;
using hc::tcp;
using hc::transport::with_deadline;
using namespace std::chrono_literals;

namespace {

/// A connected pair on 127.0.0.1.
struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  tcp::socket server{io};
  Pair() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    server = acceptor.accept();
  }
};

awaitable<std::size_t> read_one(tcp::socket& socket) {
  char byte = 0;
  auto [ec, n] = co_await socket.async_read_some(asio::buffer(&byte, 1), nothrow);
  co_return ec ? 0 : n;
}

awaitable<int> immediate() {
  co_return 7;
}

awaitable<std::error_code> connect_to(tcp::socket& socket, tcp::endpoint peer) {
  auto [ec] = co_await socket.async_connect(peer, nothrow);
  co_return ec;
}

template <typename T>
std::optional<T> run(asio::io_context& io, awaitable<std::optional<T>> op) {
  std::optional<std::optional<T>> out;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, std::optional<T> value) {
    if (e) {
      std::rethrow_exception(e);
    }
    out = value;
  });
  io.run_for(5s);
  io.restart();
  BOOST_REQUIRE(out.has_value());
  return *out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadline)

BOOST_AUTO_TEST_CASE(an_operation_in_time_keeps_its_socket) {
  Pair p;
  asio::write(p.server, asio::buffer("x", 1));
  auto got = run(p.io, with_deadline(p.client, 2s, read_one(p.client)));
  BOOST_TEST(got.has_value());
  BOOST_TEST(*got == 1u);
  BOOST_TEST(p.client.is_open());
}

BOOST_AUTO_TEST_CASE(a_late_operation_is_ended_by_closing_its_socket) {
  Pair p;
  const auto start = std::chrono::steady_clock::now();
  auto got = run(p.io, with_deadline(p.client, 50ms, read_one(p.client)));
  BOOST_TEST(!got.has_value());
  BOOST_TEST(!p.client.is_open());
  const bool prompt = std::chrono::steady_clock::now() - start < 2s;
  BOOST_TEST(prompt);
}

BOOST_AUTO_TEST_CASE(an_operation_that_never_suspends_leaves_the_socket_alone) {
  Pair p;
  // The timer has expired before the operation ends; its handler must not close the socket.
  auto got = run(p.io, with_deadline(p.client, 0ms, immediate()));
  BOOST_TEST(got.has_value());
  BOOST_TEST(p.client.is_open());
}

BOOST_AUTO_TEST_CASE(a_connect_that_fails_at_once_is_reported) {
  asio::io_context io;
  tcp::socket socket(io);
  // A closed port on loopback: connect() is refused inside the initiating call, before any wait.
  tcp::endpoint closed;
  {
    tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed = probe.local_endpoint();
  }
  for (int i = 0; i < 200; ++i) {
    auto got = run(io, with_deadline(socket, 1s, connect_to(socket, closed)));
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(static_cast<bool>(*got));
    socket.close();
  }
}

BOOST_AUTO_TEST_SUITE_END()
