// The relay over real loopback TCP connections, on both paths (splice and copy): bytes arrive
// intact both ways, read-ahead bytes go first, half-close is carried through, and a reset on
// one side ends both directions.
#include "relay/relay.hpp"

#include <memory>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "support/scripted_stream.hpp"
#include "transport/prefixed_stream.hpp"

namespace {

using hc::awaitable;
using hc::nothrow;
using hc::tcp;
using Bytes = std::vector<std::uint8_t>;

struct SocketPair {
  tcp::socket near;
  tcp::socket far;
};

SocketPair connected_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket near(io), far(io);
  near.connect(acceptor.local_endpoint());
  acceptor.accept(far);
  return {std::move(near), std::move(far)};
}

Bytes pattern(std::size_t n, unsigned seed) {
  Bytes v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::uint8_t>((i * 131 + seed) & 0xFF);
  }
  return v;
}

awaitable<void> write_then_fin(tcp::socket& s, Bytes data) {
  co_await asio::async_write(s, asio::buffer(data), nothrow);
  std::error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> read_to_eof(tcp::socket& s, Bytes& out) {
  std::uint8_t buffer[16384];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer), nothrow);
    out.insert(out.end(), buffer, buffer + n);
    if (ec) {
      co_return;
    }
  }
}

awaitable<void> talk(tcp::socket& s, Bytes data, Bytes& received) {
  using namespace asio::experimental::awaitable_operators;
  co_await (write_then_fin(s, std::move(data)) && read_to_eof(s, received));
}

struct Exchange {
  Bytes client_got;
  Bytes target_got;
  hc::relay::RelayStats stats;
};

awaitable<void> run_relay(hc::transport::Stream& local, hc::transport::Stream& remote,
                          hc::relay::RelayOptions options, hc::relay::RelayStats& stats) {
  stats = co_await hc::relay::relay(local, remote, options);
}

awaitable<void> exchange(hc::transport::Stream& local, hc::transport::Stream& remote,
                         tcp::socket& client, tcp::socket& target, Bytes up, Bytes down,
                         hc::relay::RelayOptions options, Exchange& out) {
  using namespace asio::experimental::awaitable_operators;
  co_await (run_relay(local, remote, options, out.stats) &&
            talk(client, std::move(up), out.client_got) &&
            talk(target, std::move(down), out.target_got));
}

void run(asio::io_context& io, awaitable<void> op) {
  bool finished = false;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr) { finished = true; });
  io.run_for(std::chrono::seconds(20));
  BOOST_REQUIRE(finished);
}

const bool kSplice[] = {true, false};

}  // namespace

BOOST_AUTO_TEST_SUITE(relay)

BOOST_DATA_TEST_CASE(both_directions_with_half_close, boost::unit_test::data::make(kSplice),
                     splice) {
  asio::io_context io;
  auto client_side = connected_pair(io);  // near: the user; far: hopchain's local end
  auto target_side = connected_pair(io);  // near: hopchain's remote end; far: the target
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  const Bytes up = pattern(3 << 20, 1);
  const Bytes down = pattern(2 << 20, 2);
  Exchange out;
  run(io, exchange(local, remote, client_side.near, target_side.far, up, down, {splice}, out));
  BOOST_TEST((out.target_got == up));
  BOOST_TEST((out.client_got == down));
  BOOST_TEST(out.stats.up.bytes == up.size());
  BOOST_TEST(out.stats.down.bytes == down.size());
  BOOST_TEST(!out.stats.up.error);
  BOOST_TEST(!out.stats.down.error);
  BOOST_TEST(out.stats.up.spliced == splice);
}

BOOST_DATA_TEST_CASE(read_ahead_bytes_go_first, boost::unit_test::data::make(kSplice), splice) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  const Bytes banner = {'S', 'S', 'H', '-', '2', '.', '0', '\r', '\n'};
  hc::transport::PrefixedStream remote(
      std::make_unique<hc::transport::TcpStream>(std::move(target_side.near)), banner);
  const Bytes down = pattern(1 << 20, 3);
  Exchange out;
  run(io, exchange(local, remote, client_side.near, target_side.far, {}, down, {splice}, out));
  Bytes expected = banner;
  expected.insert(expected.end(), down.begin(), down.end());
  BOOST_TEST((out.client_got == expected));
  BOOST_TEST(out.target_got.empty());
}

awaitable<void> reset_after(tcp::socket& s, std::size_t bytes) {
  Bytes data = pattern(bytes, 4);
  co_await asio::async_write(s, asio::buffer(data), nothrow);
  s.set_option(asio::socket_base::linger(true, 0));
  s.close();
}

awaitable<void> reset_scenario(hc::transport::Stream& local, hc::transport::Stream& remote,
                               tcp::socket& client, tcp::socket& target,
                               hc::relay::RelayOptions options, Exchange& out) {
  using namespace asio::experimental::awaitable_operators;
  // The client sends nothing and never closes: only the reset can end the relay.
  co_await (run_relay(local, remote, options, out.stats) && read_to_eof(client, out.client_got) &&
            reset_after(target, 100000));
}

BOOST_DATA_TEST_CASE(target_reset_ends_both_directions, boost::unit_test::data::make(kSplice),
                     splice) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  Exchange out;
  run(io, reset_scenario(local, remote, client_side.near, target_side.far, {splice}, out));
  BOOST_TEST((out.stats.down.error || out.stats.up.error));
}

BOOST_AUTO_TEST_SUITE_END()

// --- relay_watching_first_byte -------------------------------------------------------------------

namespace {

struct Watched {
  hc::relay::RelayStats stats;
  Bytes target_got;
  Bytes client_got;
  bool client_saw_end = false;
};

awaitable<void> run_watching(hc::transport::Stream& local, hc::transport::Stream& remote,
                             hc::transport::FirstBytes& first, hc::relay::RelayOptions options,
                             hc::relay::RelayStats& stats, bool may_resend = true) {
  stats = co_await hc::relay::relay_watching_first_byte(local, remote, first, may_resend, options);
}

/// The target reads what the client sent before, then ends without a byte (FIN, or a reset).
awaitable<void> target_ends_silently(tcp::socket& target, std::size_t expect, bool reset,
                                     Bytes& got) {
  std::uint8_t buffer[4096];
  while (got.size() < expect) {
    auto [ec, n] = co_await target.async_read_some(asio::buffer(buffer), nothrow);
    got.insert(got.end(), buffer, buffer + n);
    if (ec) {
      break;
    }
  }
  if (reset) {
    target.set_option(asio::socket_base::linger(true, 0));
    target.close();
  } else {
    target.shutdown(tcp::socket::shutdown_send);
  }
}

awaitable<void> send_up(tcp::socket& client, Bytes data) {
  co_await asio::async_write(client, asio::buffer(data), nothrow);
}

awaitable<void> silent_end_scenario(hc::transport::Stream& local, hc::transport::Stream& remote,
                                    hc::transport::FirstBytes& first, tcp::socket& client,
                                    tcp::socket& target, Bytes up, bool reset, Watched& out,
                                    bool may_resend = true) {
  using namespace asio::experimental::awaitable_operators;
  const std::size_t size = up.size();
  co_await (run_watching(local, remote, first, {true}, out.stats, may_resend) &&
            send_up(client, std::move(up)) &&
            target_ends_silently(target, size, reset, out.target_got));
}

awaitable<void> talk_scenario(hc::transport::Stream& local, hc::transport::Stream& remote,
                              hc::transport::FirstBytes& first, tcp::socket& client,
                              tcp::socket& target, Bytes up, Bytes down, bool splice,
                              Watched& out) {
  using namespace asio::experimental::awaitable_operators;
  co_await (run_watching(local, remote, first, {splice}, out.stats) &&
            talk(client, std::move(up), out.client_got) &&
            talk(target, std::move(down), out.target_got));
}

awaitable<void> target_reads_to_eof_then_ends(tcp::socket& target, Bytes& got) {
  co_await read_to_eof(target, got);
  target.shutdown(tcp::socket::shutdown_send);
}

awaitable<void> answer_after_eof_scenario(hc::transport::Stream& local,
                                          hc::transport::Stream& remote,
                                          hc::transport::FirstBytes& first, tcp::socket& client,
                                          tcp::socket& target, Bytes up, Watched& out) {
  using namespace asio::experimental::awaitable_operators;
  co_await (run_watching(local, remote, first, {true}, out.stats) &&
            talk(client, std::move(up), out.client_got) &&
            target_reads_to_eof_then_ends(target, out.target_got));
}

/// The client sends, keeps its side open until the tunnel ends, then closes.
awaitable<void> send_then_read_to_eof(tcp::socket& client, Bytes up, Bytes& got) {
  co_await asio::async_write(client, asio::buffer(up), nothrow);
  co_await read_to_eof(client, got);
  client.shutdown(tcp::socket::shutdown_send);
}

awaitable<void> no_resend_scenario(hc::transport::Stream& local, hc::transport::Stream& remote,
                                   hc::transport::FirstBytes& first, tcp::socket& client,
                                   tcp::socket& target, Bytes up, Watched& out) {
  using namespace asio::experimental::awaitable_operators;
  const std::size_t size = up.size();
  co_await (run_watching(local, remote, first, {true}, out.stats, false) &&
            send_then_read_to_eof(client, std::move(up), out.client_got) &&
            target_ends_silently(target, size, false, out.target_got));
}

awaitable<void> write_hi(hc::transport::Stream& local, bool& wrote) {
  const Bytes hello = {'h', 'i'};
  auto [ec, n] = co_await local.write_all(hello);
  wrote = !ec && n == 2;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_watch)

BOOST_DATA_TEST_CASE(remote_end_before_first_byte_leaves_local_open,
                     boost::unit_test::data::make({false, true}), reset) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  hc::transport::FirstBytes first;
  const Bytes up = pattern(3000, 5);
  Watched out;
  run(io,
      silent_end_scenario(local, remote, first, client_side.near, target_side.far, up, reset, out));
  BOOST_TEST(out.stats.ended_before_first_byte);
  BOOST_TEST((out.target_got == up));
  BOOST_TEST((Bytes(first.bytes().begin(), first.bytes().end()) == up));
  // The local side is untouched: the client sees neither EOF nor a reset, and it still works.
  client_side.near.non_blocking(true);
  std::uint8_t probe[8];
  std::error_code ec;
  client_side.near.read_some(asio::buffer(probe), ec);
  BOOST_TEST((ec == asio::error::would_block));
  bool wrote = false;
  io.restart();
  run(io, write_hi(local, wrote));
  BOOST_TEST(wrote);
}

BOOST_AUTO_TEST_CASE(without_resend_an_end_after_the_users_bytes_is_the_answer) {
  // The target read a request and closed: that end reaches the client, and nothing is kept
  // for another chain to send the request again.
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  hc::transport::FirstBytes first;
  const Bytes up = pattern(3000, 9);
  Watched out;
  run(io, no_resend_scenario(local, remote, first, client_side.near, target_side.far, up, out));
  BOOST_TEST(!out.stats.ended_before_first_byte);
  BOOST_TEST((out.target_got == up));
  BOOST_TEST(out.client_got.empty());
}

BOOST_AUTO_TEST_CASE(without_resend_an_end_before_any_user_byte_is_still_early) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  hc::transport::FirstBytes first;
  Watched out;
  run(io, silent_end_scenario(local, remote, first, client_side.near, target_side.far, {}, false,
                              out, false));
  BOOST_TEST(out.stats.ended_before_first_byte);
  BOOST_TEST(out.target_got.empty());
  BOOST_TEST(first.bytes().empty());
}

BOOST_DATA_TEST_CASE(first_byte_turns_it_into_a_plain_relay, boost::unit_test::data::make(kSplice),
                     splice) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  hc::transport::FirstBytes first;
  const Bytes up = pattern(1 << 20, 6);
  const Bytes down = pattern(1 << 20, 7);
  Watched out;
  run(io, talk_scenario(local, remote, first, client_side.near, target_side.far, up, down, splice,
                        out));
  BOOST_TEST(!out.stats.ended_before_first_byte);
  BOOST_TEST((out.target_got == up));
  BOOST_TEST((out.client_got == down));
  BOOST_TEST(out.stats.up.bytes == up.size());
  BOOST_TEST(out.stats.down.bytes == down.size());
}

BOOST_AUTO_TEST_CASE(silent_end_after_the_clients_own_end_is_an_answer) {
  asio::io_context io;
  auto client_side = connected_pair(io);
  auto target_side = connected_pair(io);
  hc::transport::TcpStream local(std::move(client_side.far));
  hc::transport::TcpStream remote(std::move(target_side.near));
  hc::transport::FirstBytes first;
  const Bytes up = pattern(100, 8);
  Watched out;
  // The client sends and half-closes; the target reads to EOF and ends without a word.
  run(io,
      answer_after_eof_scenario(local, remote, first, client_side.near, target_side.far, up, out));
  BOOST_TEST(!out.stats.ended_before_first_byte);
  BOOST_TEST((out.target_got == up));
  BOOST_TEST(out.client_got.empty());
}

BOOST_AUTO_TEST_SUITE_END()
