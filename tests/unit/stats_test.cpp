// The statistics lines (app/stats): units, rounding, and the fixed wording that scripts grep.
#include "app/stats.hpp"

#include <boost/test/unit_test.hpp>

using hc::app::close_line;
using hc::app::format_bytes;
using hc::app::format_duration;
using hc::app::format_rate;
using hc::app::ServerStats;
using hc::app::setup_lines;
using std::chrono::microseconds;

BOOST_AUTO_TEST_SUITE(stats)

BOOST_AUTO_TEST_CASE(bytes_exact_then_readable) {
  BOOST_TEST(format_bytes(0) == "0 B");
  BOOST_TEST(format_bytes(1023) == "1023 B");
  BOOST_TEST(format_bytes(1024) == "1024 B (1.0 KiB)");
  BOOST_TEST(format_bytes(35012) == "35012 B (34.2 KiB)");
  BOOST_TEST(format_bytes(3u << 20) == "3145728 B (3.0 MiB)");
  BOOST_TEST(format_bytes(5ull << 30) == "5368709120 B (5.0 GiB)");
}

BOOST_AUTO_TEST_CASE(durations_in_ms_then_s) {
  BOOST_TEST(format_duration(microseconds(0)) == "0.0 ms");
  BOOST_TEST(format_duration(microseconds(420)) == "0.4 ms");
  BOOST_TEST(format_duration(microseconds(9'949)) == "9.9 ms");
  BOOST_TEST(format_duration(microseconds(12'345)) == "12 ms");
  BOOST_TEST(format_duration(microseconds(999'400)) == "999 ms");
  BOOST_TEST(format_duration(microseconds(1'520'000)) == "1.52 s");
  BOOST_TEST(format_duration(microseconds(75'300'000)) == "75.3 s");
  BOOST_TEST(format_duration(microseconds(812'000'000)) == "812 s");
  BOOST_TEST(format_duration(microseconds(-5)) == "0.0 ms");
}

BOOST_AUTO_TEST_CASE(rates_in_binary_units) {
  BOOST_TEST(format_rate(79, microseconds(1'000'000)) == "79 B/s");
  BOOST_TEST(format_rate(23040, microseconds(1'000'000)) == "22.5 KiB/s");
  BOOST_TEST(format_rate(3u << 20, microseconds(2'000'000)) == "1.5 MiB/s");
  BOOST_TEST(format_rate(2ull << 30, microseconds(1'000'000)) == "2.0 GiB/s");
  BOOST_TEST(format_rate(0, microseconds(0)) == "0 B/s");
  BOOST_TEST(format_rate(1, microseconds(0)) == "976.6 KiB/s");  // a zero duration counts as 1 µs
}

BOOST_AUTO_TEST_CASE(setup_lines_per_hop_then_target) {
  hc::chain::ChainTiming t;
  t.connected = microseconds(400);
  t.hops.push_back({"socks5://127.0.0.1:1080", std::nullopt, microseconds(1'200), false, {}});
  t.hops.push_back({"https://proxy:443", microseconds(3'100), microseconds(4'000), true, {}});
  t.target = "example.org:80";
  const auto lines = setup_lines(t, microseconds(4'100));
  BOOST_REQUIRE(lines.size() == 3u);
  BOOST_TEST(lines[0] == "setup: hop 1/2 socks5://127.0.0.1:1080: connected 0.4 ms, tunnel 1.2 ms");
  BOOST_TEST(lines[1] == "setup: hop 2/2 https://proxy:443: tls 3.1 ms, tunnel 4.0 ms, pipelined");
  BOOST_TEST(lines[2] == "setup: target example.org:80 reached in 4.1 ms");
}

BOOST_AUTO_TEST_CASE(setup_of_a_direct_connection) {
  hc::chain::ChainTiming t;
  t.connected = microseconds(300);
  t.target = "127.0.0.1:9";
  const auto lines = setup_lines(t, microseconds(350));
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0] == "setup: target 127.0.0.1:9 reached in 0.3 ms (connected 0.3 ms)");
}

BOOST_AUTO_TEST_CASE(first_bytes_line_wording) {
  using hc::app::first_bytes_line;
  BOOST_TEST(first_bytes_line(0, 0).empty());
  BOOST_TEST(first_bytes_line(21, 21) == "setup: first bytes: 21 B with the request");
  BOOST_TEST(first_bytes_line(26, 21) ==
             "setup: first bytes: 21 B with the request, 5 B more before the reply");
}

BOOST_AUTO_TEST_CASE(close_line_with_relay_paths) {
  hc::relay::RelayStats stats;
  stats.up.spliced = true;
  BOOST_TEST(hc::app::relay_paths(stats) == "up splice, down copy");
  BOOST_TEST(
      close_line(0, 0, microseconds(1'000'000), hc::app::relay_paths(stats)) ==
      "closed: sent 0 B, received 0 B in 1.00 s, up 0 B/s, down 0 B/s; up splice, down copy");
}

BOOST_AUTO_TEST_CASE(close_line_wording) {
  BOOST_TEST(
      close_line(120, 35012, microseconds(1'520'000)) ==
      "closed: sent 120 B, received 35012 B (34.2 KiB) in 1.52 s, up 78 B/s, down 22.5 KiB/s");
}

BOOST_AUTO_TEST_CASE(totals_and_failures_per_hop) {
  ServerStats totals;
  totals.opened();
  totals.opened();
  totals.opened();
  hc::chain::ChainError e;
  e.hop = 2;
  e.hops = 2;
  e.where = "socks5://127.0.0.1:1081";
  totals.chain_failed(e);
  totals.abandoned();
  totals.opened();
  totals.chain_failed(e);
  totals.abandoned();
  hc::chain::ChainError direct;
  direct.where = "127.0.0.1:9";
  totals.opened();
  totals.chain_failed(direct);
  totals.abandoned();
  totals.closed(100, 2048);
  BOOST_TEST(totals.summary() ==
             "1 open, 5 total, 3 failed, sent 100 B, received 2048 B (2.0 KiB); "
             "hop 2/2 socks5://127.0.0.1:1081: 2 failed; target 127.0.0.1:9: 1 failed");
}

BOOST_AUTO_TEST_SUITE_END()
