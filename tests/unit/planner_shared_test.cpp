/// The Planner as the process shares it: several threads (forward mode's event loops) selecting
/// and reporting at once, and round-robin turns that rotate across them.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/strategy.hpp"

namespace {

using hc::chain::Planner;
using hc::chain::Strategy;
using hc::chain::StrategyOptions;
using Idx = std::vector<std::size_t>;
using namespace std::chrono_literals;

std::vector<hc::proto::HopSpec> hops(std::size_t n) {
  std::vector<hc::proto::HopSpec> out;
  for (std::size_t i = 0; i < n; ++i) {
    hc::proto::HopSpec h;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks5://h" + std::to_string(i) + ":1080", h));
    out.push_back(h);
  }
  return out;
}

StrategyOptions opts(Strategy s, std::size_t len = 1) {
  StrategyOptions o;
  o.strategy = s;
  o.chain_len = len;
  o.fail_timeout = 60s;
  return o;
}

const std::vector<bool> none;

}  // namespace

BOOST_AUTO_TEST_SUITE(planner_shared)

BOOST_AUTO_TEST_CASE(round_robin_turns_rotate_across_threads) {
  Planner p(hops(2), opts(Strategy::round_robin));
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::atomic<int> picked[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        const Idx pick = p.select(Planner::Clock::now(), none);
        if (pick.size() == 1) {
          ++picked[pick[0]];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  // One cursor for all: every turn moves it one hop on, whichever thread takes it.
  BOOST_TEST(picked[0].load() == kThreads * kEach / 2);
  BOOST_TEST(picked[1].load() == kThreads * kEach / 2);
}

BOOST_AUTO_TEST_CASE(concurrent_reports_and_selections) {
  for (const Strategy s : {Strategy::dynamic, Strategy::random, Strategy::round_robin}) {
    Planner p(hops(3), opts(s, 2));
    std::atomic<bool> bad{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) {
          const auto now = Planner::Clock::now();
          const Idx pick = p.select(now, none, {true, t % 2 == 0, true});
          if (pick.empty() || pick.size() > 3) {
            bad = true;
            continue;
          }
          if (i % 3 == 0) {
            p.report_failure(pick.front(), now);
          } else {
            p.report_success(pick);
          }
          p.mark_without_udp(1);
          bad = bad || !p.without_udp(1);
          (void)p.alive(pick.back(), now);
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    BOOST_TEST(!bad.load());
  }
}

BOOST_AUTO_TEST_SUITE_END()
