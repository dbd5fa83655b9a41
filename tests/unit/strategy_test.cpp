/// Chain strategies: which hops each strategy picks, passive health (max-fails, fail-timeout,
/// all-dead fallback) and which hop a chain error blames.
#include "chain/strategy.hpp"

#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

using hc::chain::Planner;
using hc::chain::Strategy;
using hc::chain::StrategyOptions;
using Idx = std::vector<std::size_t>;

hc::chain::Hops hops(std::size_t n) {
  std::vector<hc::proto::HopSpec> out;
  for (std::size_t i = 0; i < n; ++i) {
    hc::proto::HopSpec h;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks5h://h" + std::to_string(i) + ":1080", h));
    out.push_back(h);
  }
  return *hc::chain::compile_hops(out, "");
}

StrategyOptions opts(Strategy s, std::size_t len = 1, int max_fails = 1) {
  StrategyOptions o;
  o.strategy = s;
  o.chain_len = len;
  o.max_fails = max_fails;
  o.fail_timeout = std::chrono::seconds(30);
  return o;
}

const Planner::Clock::time_point t0{};
const std::vector<bool> none;

}  // namespace

BOOST_AUTO_TEST_SUITE(strategy)

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (const char* name : {"strict", "dynamic", "random", "round-robin"}) {
    const auto s = hc::chain::parse_strategy(name);
    BOOST_REQUIRE(s);
    BOOST_TEST(hc::chain::to_string(*s) == name);
  }
  BOOST_TEST(!hc::chain::parse_strategy("round_robin"));
}

BOOST_AUTO_TEST_CASE(strict_uses_every_hop_even_dead_ones) {
  Planner p(hops(3), opts(Strategy::strict));
  p.report_failure(1, t0);
  BOOST_TEST(p.select(t0, none) == (Idx{0, 1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dynamic_skips_dead_hops_until_fail_timeout) {
  Planner p(hops(3), opts(Strategy::dynamic));
  p.report_failure(1, t0);
  BOOST_TEST(p.select(t0, none) == (Idx{0, 2}), boost::test_tools::per_element());
  BOOST_TEST(p.select(t0 + std::chrono::seconds(31), none) == (Idx{0, 1, 2}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(max_fails_counts_consecutive_failures) {
  Planner p(hops(2), opts(Strategy::dynamic, 1, 2));
  p.report_failure(0, t0);
  BOOST_TEST(p.alive(0, t0));
  p.report_success({0});
  p.report_failure(0, t0);
  BOOST_TEST(p.alive(0, t0));
  p.report_failure(0, t0);
  BOOST_TEST(!p.alive(0, t0));
}

BOOST_AUTO_TEST_CASE(all_dead_are_tried_anyway) {
  Planner p(hops(2), opts(Strategy::dynamic));
  p.report_failure(0, t0);
  p.report_failure(1, t0);
  BOOST_TEST(p.select(t0, none) == (Idx{0, 1}), boost::test_tools::per_element());
  Planner r(hops(2), opts(Strategy::random, 2));
  r.report_failure(0, t0);
  r.report_failure(1, t0);
  BOOST_TEST(r.select(t0, none).size() == 2u);
}

BOOST_AUTO_TEST_CASE(tried_hops_are_avoided_and_exhaustion_stops) {
  Planner p(hops(3), opts(Strategy::dynamic));
  BOOST_TEST(p.select(t0, {false, true, false}) == (Idx{0, 2}), boost::test_tools::per_element());
  BOOST_TEST(p.select(t0, {true, true, true}).empty());
  Planner s(hops(2), opts(Strategy::strict));
  BOOST_TEST(s.select(t0, {true, false}).empty());
}

BOOST_AUTO_TEST_CASE(random_picks_chain_len_distinct_live_hops) {
  Planner p(hops(5), opts(Strategy::random, 2), 42);
  p.report_failure(3, t0);
  std::set<std::size_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto pick = p.select(t0, none);
    BOOST_REQUIRE(pick.size() == 2u);
    BOOST_TEST(pick[0] != pick[1]);
    seen.insert(pick.begin(), pick.end());
  }
  BOOST_TEST(seen == (std::set<std::size_t>{0, 1, 2, 4}));
}

BOOST_AUTO_TEST_CASE(round_robin_rotates_in_list_order) {
  Planner p(hops(3), opts(Strategy::round_robin, 2));
  BOOST_TEST(p.select(t0, none) == (Idx{0, 1}), boost::test_tools::per_element());
  BOOST_TEST(p.select(t0, none) == (Idx{2, 0}), boost::test_tools::per_element());
  BOOST_TEST(p.select(t0, none) == (Idx{1, 2}), boost::test_tools::per_element());
  p.report_failure(0, t0);
  BOOST_TEST(p.select(t0, none) == (Idx{1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unusable_hops_are_never_picked) {
  // A UDP association: hop 1 cannot carry UDP.
  const std::vector<bool> usable{true, false, true, true};
  Planner d(hops(4), opts(Strategy::dynamic));
  BOOST_TEST(d.select(t0, none, usable) == (Idx{0, 2, 3}), boost::test_tools::per_element());
  d.report_failure(0, t0);
  BOOST_TEST(d.select(t0, none, usable) == (Idx{2, 3}), boost::test_tools::per_element());
  BOOST_TEST(d.select(t0, none, {false, false, false, false}).empty());

  // Round-robin passes over it without losing a turn: 0, 2, 3, 0, ...
  Planner r(hops(4), opts(Strategy::round_robin, 1));
  for (const std::size_t want : {0u, 2u, 3u, 0u, 2u}) {
    BOOST_TEST(r.select(t0, none, usable) == (Idx{want}), boost::test_tools::per_element());
  }
  // chain-len beyond the usable hops is cut to them.
  Planner r3(hops(4), opts(Strategy::round_robin, 4));
  BOOST_TEST(r3.select(t0, none, usable) == (Idx{0, 2, 3}), boost::test_tools::per_element());

  Planner x(hops(4), opts(Strategy::random, 2), 7);
  for (int i = 0; i < 50; ++i) {
    const auto pick = x.select(t0, none, usable);
    BOOST_REQUIRE(pick.size() == 2u);
    BOOST_TEST(pick[0] != 1u);
    BOOST_TEST(pick[1] != 1u);
  }
  BOOST_TEST(!x.without_udp(1));
  x.mark_without_udp(1);
  BOOST_TEST(x.without_udp(1));
}

BOOST_AUTO_TEST_CASE(blame) {
  hc::chain::ChainError e;
  e.hops = 3;
  e.hop = 2;
  e.stage = hc::proto::Stage::connect;
  BOOST_TEST(*hc::chain::blamed_hop(e, 3) == 1u);
  e.stage = hc::proto::Stage::auth;
  BOOST_TEST(*hc::chain::blamed_hop(e, 3) == 1u);
  e.stage = hc::proto::Stage::request;  // hop 2 could not reach hop 3
  BOOST_TEST(*hc::chain::blamed_hop(e, 3) == 2u);
  e.hop = 3;  // the last hop could not reach the target: nobody to replace
  BOOST_TEST(!hc::chain::blamed_hop(e, 3));
  e.hop = 0;
  BOOST_TEST(!hc::chain::blamed_hop(e, 3));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connection_attempts)

BOOST_AUTO_TEST_CASE(blaming_the_last_hop_marks_it_tried_within_the_bound) {
  Planner p(hops(3), opts(Strategy::dynamic));
  hc::chain::ConnectionAttempts a;
  a.tried.assign(3, false);
  a.made = 1;
  a.used = {0, 1, 2};
  BOOST_TEST(hc::chain::retry_without_last_hop(p, a, true));
  BOOST_TEST(a.tried[2]);
  BOOST_TEST(!p.alive(2, Planner::Clock::now()));
  BOOST_TEST((p.select(Planner::Clock::now(), a.tried) == Idx{0, 1}));
  a.made = 3;  // the default bound on chains per connection
  BOOST_TEST(!hc::chain::retry_without_last_hop(p, a, true));
}

BOOST_AUTO_TEST_CASE(without_blame_only_this_connection_avoids_the_hop) {
  Planner p(hops(3), opts(Strategy::dynamic));
  hc::chain::ConnectionAttempts a;
  a.tried.assign(3, false);
  a.made = 1;
  a.used = {0, 1, 2};
  BOOST_TEST(hc::chain::retry_without_last_hop(p, a, false));
  BOOST_TEST(a.tried[2]);
  // Every other connection still gets the whole chain, exit hop included.
  BOOST_TEST(p.alive(2, Planner::Clock::now()));
  BOOST_TEST((p.select(Planner::Clock::now(), {}) == Idx{0, 1, 2}));
}

BOOST_AUTO_TEST_CASE(strict_never_retries) {
  Planner p(hops(2), opts(Strategy::strict));
  hc::chain::ConnectionAttempts a;
  a.tried.assign(2, false);
  a.made = 1;
  a.used = {0, 1};
  BOOST_TEST(!hc::chain::retry_without_last_hop(p, a, true));
}

BOOST_AUTO_TEST_CASE(optimistic_data_only_behind_socks_requests) {
  auto hop = [](const std::string& url) {
    hc::proto::HopSpec h;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, h));
    return h;
  };
  BOOST_TEST(hc::chain::takes_optimistic_data(hop("socks5://a:1080")));
  BOOST_TEST(hc::chain::takes_optimistic_data(hop("socks4a://a:1080")));
  BOOST_TEST(!hc::chain::takes_optimistic_data(hop("http://a:3128")));
}

BOOST_AUTO_TEST_SUITE_END()
