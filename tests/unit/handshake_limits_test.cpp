// The local SOCKS server's pre-authentication limits: connections in handshake per source and
// in all, the cooldown after repeated login failures, and their rate-limited log lines.
#include "app/handshake_limits.hpp"

#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

using hc::app::HandshakeLimits;
using hc::app::HandshakeLimitsOptions;
using Verdict = HandshakeLimits::Verdict;
using namespace std::chrono_literals;

namespace {

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

HandshakeLimitsOptions small() {
  HandshakeLimitsOptions o;
  o.max_total = 6;
  o.max_per_source = 3;
  o.max_auth_failures = 3;
  o.failure_window = 60s;
  o.cooldown = 30s;
  return o;
}

const auto t0 = HandshakeLimits::Clock::time_point{} + 1h;

}  // namespace

BOOST_AUTO_TEST_SUITE(handshake_limits)

BOOST_AUTO_TEST_CASE(default_total_follows_the_descriptor_limit) {
  using hc::app::default_max_handshakes;
  BOOST_TEST(default_max_handshakes(64) == 24u);
  BOOST_TEST(default_max_handshakes(1024) == 504u);
  BOOST_TEST(default_max_handshakes(1u << 20) == 4096u);
  BOOST_TEST(default_max_handshakes(10) == 4u);
  BOOST_TEST(default_max_handshakes(0) == 4u);
  BOOST_TEST(HandshakeLimitsOptions{}.max_per_source == 16u);
}

BOOST_AUTO_TEST_CASE(sources_are_ipv4_addresses_and_ipv6_64s) {
  using hc::app::source_of;
  BOOST_TEST(source_of(ip("192.0.2.1")) == ip("192.0.2.1"));
  BOOST_TEST(source_of(ip("::ffff:192.0.2.1")) == ip("192.0.2.1"));
  BOOST_TEST(source_of(ip("2001:db8:1:2:aaaa::1")) == ip("2001:db8:1:2::"));
  BOOST_TEST(source_of(ip("::1")) == ip("::"));
}

BOOST_AUTO_TEST_CASE(per_source_cap_leaves_room_for_other_sources) {
  HandshakeLimits limits(small());
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST((limits.admit(ip("127.0.0.2"), t0).verdict == Verdict::admitted));
  }
  const auto first = limits.admit(ip("127.0.0.2"), t0);
  BOOST_TEST((first.verdict == Verdict::source_busy));
  BOOST_TEST_REQUIRE(first.log_line.has_value());
  BOOST_TEST(*first.log_line ==
             "127.0.0.2: 3 connections already in handshake (the limit per source); closing "
             "its new ones");
  // Quiet for the interval, then one line that counts what it kept quiet.
  for (int i = 0; i < 5; ++i) {
    const auto again = limits.admit(ip("::ffff:127.0.0.2"), t0 + 1s);
    BOOST_TEST((again.verdict == Verdict::source_busy));
    BOOST_TEST(!again.log_line);
  }
  const auto later = limits.admit(ip("127.0.0.2"), t0 + 11s);
  BOOST_TEST_REQUIRE(later.log_line.has_value());
  BOOST_TEST(later.log_line->find("(5 more closed since the last message)") != std::string::npos);
  // Another source is served.
  BOOST_TEST((limits.admit(ip("127.0.0.1"), t0).verdict == Verdict::admitted));
  // Once a handshake ends, the busy source gets a place again.
  limits.finished(ip("127.0.0.2"));
  BOOST_TEST((limits.admit(ip("127.0.0.2"), t0).verdict == Verdict::admitted));
  BOOST_TEST(limits.in_handshake() == 4u);
}

BOOST_AUTO_TEST_CASE(total_cap_makes_room_for_sources_holding_few) {
  HandshakeLimits limits(small());
  for (const char* peer :
       {"10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.2"}) {
    BOOST_TEST((limits.admit(ip(peer), t0).verdict == Verdict::admitted));
  }
  // Full: a new source takes the place of the oldest handshake of the busiest one.
  const auto first = limits.admit(ip("10.0.0.4"), t0);
  BOOST_TEST((first.verdict == Verdict::admitted));
  BOOST_TEST_REQUIRE(first.evict.has_value());
  BOOST_TEST(*first.evict == ip("10.0.0.1"));
  BOOST_TEST_REQUIRE(first.log_line.has_value());
  BOOST_TEST(*first.log_line ==
             "6 connections in handshake (the limit for all sources, from the descriptor limit); "
             "closing the oldest of 10.0.0.1 (3) for one from 10.0.0.4");
  BOOST_TEST(limits.in_handshake() == 6u);
  const auto second = limits.admit(ip("10.0.0.5"), t0 + 1s);
  BOOST_TEST((second.verdict == Verdict::admitted));
  BOOST_TEST((second.evict == ip("10.0.0.2")));
  BOOST_TEST(!second.log_line);  // within the log interval
  // 2, 2, 1, 1: no source holds more than one more than 10.0.0.4 would; the new one is closed.
  const auto full = limits.admit(ip("10.0.0.4"), t0 + 2s);
  BOOST_TEST((full.verdict == Verdict::server_busy));
  BOOST_TEST(!full.evict);
  // The evicted connections were counted out: finishing the rest empties the server.
  for (const char* peer :
       {"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.4", "10.0.0.5"}) {
    limits.finished(ip(peer));
  }
  BOOST_TEST(limits.in_handshake() == 0u);
  // finished() for a connection never admitted changes nothing.
  limits.finished(ip("10.9.9.9"));
  BOOST_TEST(limits.in_handshake() == 0u);
}

BOOST_AUTO_TEST_CASE(total_cap_spread_evenly_closes_new_connections) {
  HandshakeLimits limits(small());
  for (const char* peer :
       {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}) {
    BOOST_TEST((limits.admit(ip(peer), t0).verdict == Verdict::admitted));
  }
  const auto full = limits.admit(ip("10.0.0.7"), t0);
  BOOST_TEST((full.verdict == Verdict::server_busy));
  BOOST_TEST_REQUIRE(full.log_line.has_value());
  BOOST_TEST(full.log_line->find("closing new ones, this one from 10.0.0.7") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(auth_failures_start_a_cooldown_logged_once) {
  HandshakeLimits limits(small());
  const auto guesser = ip("127.0.0.3");
  BOOST_TEST(!limits.auth_failed(guesser, t0));
  BOOST_TEST(!limits.auth_failed(guesser, t0 + 1s));
  const auto line = limits.auth_failed(guesser, t0 + 2s);
  BOOST_TEST_REQUIRE(line.has_value());
  BOOST_TEST(*line ==
             "127.0.0.3: 3 authentication failures within 60 s; closing its connections for 30 s");
  // Dropped at accept, silently, until the cooldown is over; other sources are not.
  for (int i = 0; i < 10; ++i) {
    const auto a = limits.admit(guesser, t0 + 3s + i * 1s);
    BOOST_TEST((a.verdict == Verdict::cooling_down));
    BOOST_TEST(!a.log_line);
  }
  BOOST_TEST(!limits.auth_failed(guesser, t0 + 20s));  // a connection admitted earlier
  BOOST_TEST((limits.admit(ip("127.0.0.4"), t0 + 3s).verdict == Verdict::admitted));
  BOOST_TEST((limits.admit(guesser, t0 + 32s).verdict == Verdict::admitted));
  // The count starts again after the cooldown.
  BOOST_TEST(!limits.auth_failed(guesser, t0 + 33s));
}

BOOST_AUTO_TEST_CASE(failures_outside_the_window_do_not_add_up) {
  HandshakeLimits limits(small());
  const auto user = ip("2001:db8::7");
  BOOST_TEST(!limits.auth_failed(user, t0));
  BOOST_TEST(!limits.auth_failed(user, t0 + 10s));
  BOOST_TEST(!limits.auth_failed(user, t0 + 61s));  // a new window
  BOOST_TEST(!limits.auth_failed(user, t0 + 62s));
  const auto line = limits.auth_failed(ip("2001:db8::8"), t0 + 63s);  // the same /64
  BOOST_TEST_REQUIRE(line.has_value());
  BOOST_TEST(line->find("2001:db8::/64: 3 authentication failures") == 0u);
}

BOOST_AUTO_TEST_CASE(idle_sources_are_forgotten) {
  HandshakeLimits limits(small());
  for (int i = 0; i < 200; ++i) {
    const auto peer = asio::ip::address_v4(0x0A000000u + static_cast<unsigned>(i));
    BOOST_TEST((limits.admit(peer, t0).verdict != Verdict::cooling_down));
    limits.finished(peer);
  }
  const auto failing = ip("10.1.0.1");
  limits.auth_failed(failing, t0 + 100s);
  limits.admit(ip("10.2.0.1"), t0 + 100s);  // admitted, still in handshake
  for (int i = 0; i < 200; ++i) {
    const auto peer = asio::ip::address_v4(0x0B000000u + static_cast<unsigned>(i));
    limits.admit(peer, t0 + 200s);
    limits.finished(peer);
  }
  BOOST_TEST(limits.tracked_sources() < 300u);
  BOOST_TEST(limits.in_handshake() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
