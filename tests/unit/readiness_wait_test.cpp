/// ReadinessWait: returns when the local side turns readable, when woken (before or during the
/// wait), reports a failed wait, and a readiness callback that comes after the waiter is gone
/// touches nothing of it. Sockets on 127.0.0.1 only.
#include "transport/readiness_wait.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include <boost/test/unit_test.hpp>

using asio::awaitable;
using hc::tcp;
using hc::transport::ReadinessWait;
using hc::transport::TcpStream;
using namespace std::chrono_literals;

namespace {

struct Pair {
  asio::io_context io;
  std::unique_ptr<TcpStream> local;
  tcp::socket peer{io};
  Pair() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    peer.connect(acceptor.local_endpoint());
    local = std::make_unique<TcpStream>(acceptor.accept());
  }
};

awaitable<void> wait_once(ReadinessWait& wait, hc::transport::RawIo& local,
                          std::optional<std::error_code>& out) {
  out = co_await wait.readable_or_woken(local);
}

/// Runs one wait; `between` runs once the wait has started (io polled once).
template <typename F>
std::optional<std::error_code> run_wait(Pair& p, ReadinessWait& wait, F between) {
  std::optional<std::error_code> out;
  asio::co_spawn(p.io, wait_once(wait, *p.local->raw_io(), out), asio::detached);
  p.io.poll();
  between();
  p.io.run_for(2s);
  p.io.restart();
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readiness_wait)

BOOST_AUTO_TEST_CASE(returns_when_the_local_side_is_readable) {
  Pair p;
  ReadinessWait wait(p.io.get_executor());
  auto got = run_wait(p, wait, [&] { asio::write(p.peer, asio::buffer("x", 1)); });
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(!*got);
  BOOST_TEST(!wait.woken());
}

BOOST_AUTO_TEST_CASE(a_wake_ends_the_wait_and_every_later_one) {
  Pair p;
  ReadinessWait wait(p.io.get_executor());
  auto got = run_wait(p, wait, [&] { wait.wake(); });
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(wait.woken());
  auto again = run_wait(p, wait, [] {});
  BOOST_TEST(again.has_value());
}

BOOST_AUTO_TEST_CASE(a_closed_stream_is_a_failed_wait) {
  Pair p;
  ReadinessWait wait(p.io.get_executor());
  auto got = run_wait(p, wait, [&] { p.local->close(); });
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(*got == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(a_late_readiness_callback_outlives_the_waiter) {
  Pair p;
  {
    auto wait = std::make_unique<ReadinessWait>(p.io.get_executor());
    auto got = run_wait(p, *wait, [&] { wait->wake(); });
    BOOST_REQUIRE(got.has_value());
  }  // the readiness callback is still pending on the socket
  asio::write(p.peer, asio::buffer("x", 1));
  p.io.run_for(100ms);
  p.local.reset();
  p.io.run_for(100ms);
  BOOST_TEST(true);  // reaching here under ASan is the test
}

BOOST_AUTO_TEST_SUITE_END()
