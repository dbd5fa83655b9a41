// The fake address pool of `exec --dns fake`: one slot per name, the same IPv4 and IPv6 slot
// for as long as the name keeps it, reverse lookups, and recycling of the least recently used
// slot once it has been idle long enough (the time is the test's).
#include "capture/fake_addresses.hpp"

#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

using hc::capture::FakeAddresses;
using namespace std::chrono_literals;

namespace {

const FakeAddresses::Clock::time_point t0{};

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fake_addresses)

BOOST_AUTO_TEST_CASE(names_get_stable_addresses_in_both_ranges) {
  FakeAddresses pool;
  BOOST_TEST(pool.v4("example.org", t0)->to_string() == "198.18.0.1");
  BOOST_TEST(pool.v4("example.net", t0)->to_string() == "198.18.0.2");
  BOOST_TEST(pool.v6("example.org", t0)->to_string() == "fd00:6863::1");
  BOOST_TEST(pool.v6("example.net", t0 + 1h)->to_string() == "fd00:6863::2");
  BOOST_TEST(pool.v4("example.org", t0 + 2h)->to_string() == "198.18.0.1");
  BOOST_TEST(pool.size() == 2u);
}

BOOST_AUTO_TEST_CASE(addresses_lead_back_to_their_names) {
  FakeAddresses pool;
  const auto v4 = *pool.v4("a.test", t0);
  const auto v6 = *pool.v6("b.test", t0);
  BOOST_TEST(*pool.name_of(v4, t0) == "a.test");
  BOOST_TEST(*pool.name_of(v6, t0) == "b.test");
  BOOST_TEST(*pool.name_of(ip("::ffff:198.18.0.1"), t0) == "a.test");
  // In the ranges but never given, the ranges' first address, and outside them.
  BOOST_TEST(!pool.name_of(ip("198.18.0.3"), t0));
  BOOST_TEST(!pool.name_of(ip("198.18.0.0"), t0));
  BOOST_TEST(!pool.name_of(ip("fd00:6863::1:0:0:1"), t0));
  BOOST_TEST(!pool.name_of(ip("192.0.2.1"), t0));
  BOOST_TEST(!pool.name_of(ip("fd00:6864::1"), t0));
}

BOOST_AUTO_TEST_CASE(the_ranges_are_recognised_held_or_not) {
  BOOST_TEST(FakeAddresses::is_fake(ip("198.18.0.0")));
  BOOST_TEST(FakeAddresses::is_fake(ip("198.19.255.254")));
  BOOST_TEST(!FakeAddresses::is_fake(ip("198.20.0.1")));
  BOOST_TEST(!FakeAddresses::is_fake(ip("198.17.255.255")));
  BOOST_TEST(FakeAddresses::is_fake(ip("fd00:6863::ffff")));
  BOOST_TEST(FakeAddresses::is_fake(ip("::ffff:198.19.0.1")));
  BOOST_TEST(!FakeAddresses::is_fake(ip("fd00:6863:0:1::1")));
  BOOST_TEST(!FakeAddresses::is_fake(ip("127.0.0.1")));
}

BOOST_AUTO_TEST_CASE(a_full_pool_recycles_the_least_recently_used_idle_slot) {
  FakeAddresses pool(3, 60s);
  const auto a = *pool.v4("a", t0);
  const auto b = *pool.v4("b", t0 + 1s);
  const auto c = *pool.v4("c", t0 + 2s);
  // A connection to a's address is a use: b is now the least recently used.
  BOOST_TEST(*pool.name_of(a, t0 + 3s) == "a");
  // Nothing idle for 60 s yet: no address for a fourth name, and nobody loses theirs.
  BOOST_TEST(!pool.v4("d", t0 + 30s));
  BOOST_TEST(*pool.name_of(b, t0 + 30s) == "b");
  // Later, c is the one idle longest: d takes its slot; c's address now leads to d.
  const auto d = pool.v4("d", t0 + 100s);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(*d == c);
  BOOST_TEST(*pool.name_of(c, t0 + 100s) == "d");
  BOOST_TEST(pool.v6("d", t0 + 100s)->to_string() == "fd00:6863::3");
  BOOST_TEST(pool.size() == 3u);
  // c asks again: a new slot, recycled from a (used at 3 s) rather than b (used at 30 s).
  BOOST_TEST(*pool.v4("c", t0 + 200s) == a);
  BOOST_TEST(!pool.name_of(ip("198.18.0.4"), t0 + 200s));
}

BOOST_AUTO_TEST_CASE(a_clock_that_goes_back_recycles_nothing_early) {
  FakeAddresses pool(1, 10s);
  BOOST_TEST(pool.v4("a", t0 + 100s).has_value());
  BOOST_TEST(!pool.v4("b", t0));
  BOOST_TEST(pool.v4("b", t0 + 110s).has_value());
}

BOOST_AUTO_TEST_CASE(capacity_is_clamped) {
  FakeAddresses none(0);
  BOOST_TEST(none.v4("a", t0).has_value());
  BOOST_TEST(!none.v4("b", t0));
  FakeAddresses huge(FakeAddresses::max_capacity + 10, 0s);
  BOOST_TEST(huge.v4("a", t0).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
