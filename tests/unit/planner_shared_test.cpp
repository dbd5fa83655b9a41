/// The Planner as the process shares it: several threads (forward mode's event loops) selecting
/// and reporting at once, round-robin turns that rotate across them, and dead hops remembered
/// across runs in a file.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/cache_files.hpp"
#include "chain/hop.hpp"
#include "chain/strategy.hpp"
#include "support/temp_files.hpp"

namespace {

using hc::test::read_file;
using hc::test::TempDir;

using hc::chain::CacheWriter;
using hc::chain::Planner;
using hc::chain::Strategy;
using hc::chain::StrategyOptions;
using Idx = std::vector<std::size_t>;
using namespace std::chrono_literals;

hc::chain::Hops hops(std::size_t n) {
  std::vector<hc::proto::HopSpec> out;
  for (std::size_t i = 0; i < n; ++i) {
    hc::proto::HopSpec h;
    BOOST_REQUIRE(
        !hc::proto::parse_proxy_url("socks5://user:secret@h" + std::to_string(i) + ":1080", h));
    out.push_back(h);
  }
  return *hc::chain::compile_hops(out, "");
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

BOOST_AUTO_TEST_CASE(dead_hops_outlive_the_run) {
  TempDir dir;
  const std::string file = dir.path + "/cache/hopchain/health";
  const auto now = Planner::Clock::now();
  {
    CacheWriter writer;
    Planner first(hops(2), opts(Strategy::dynamic));
    first.remember_dead_hops(file, writer);
    first.report_failure(0, now);
    BOOST_TEST(!first.alive(0, now));
  }  // the writer saves before it goes
  const std::string text = read_file(file);
  BOOST_TEST(text.find("socks5://user@h0:1080\n") != std::string::npos);
  BOOST_TEST(text.find("secret") == std::string::npos);
  BOOST_TEST(text.find("h1") == std::string::npos);
  struct stat st {};
  BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_REQUIRE(::stat((dir.path + "/cache/hopchain").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0700u);

  CacheWriter writer;
  Planner second(hops(2), opts(Strategy::dynamic));
  second.remember_dead_hops(file, writer, now);
  BOOST_TEST(!second.alive(0, now));
  BOOST_TEST(second.alive(0, now + 61s));  // for the rest of the fail timeout only
  BOOST_TEST(second.select(now, none) == (Idx{1}), boost::test_tools::per_element());

  // Strict uses every hop whatever an earlier run saw, and writes nothing.
  Planner strict(hops(2), opts(Strategy::strict));
  strict.remember_dead_hops(file, writer, now);
  BOOST_TEST(strict.alive(0, now));
  strict.report_success({0, 1});
  writer.flush();
  BOOST_TEST(read_file(file) == text);

  // A hop that works again is taken out.
  second.report_success({0});
  writer.flush();
  BOOST_TEST(read_file(file).empty());
}

BOOST_AUTO_TEST_CASE(expired_lines_are_ignored) {
  TempDir dir;
  const std::string file = dir.path + "/health";
  const auto wall = Planner::WallClock::now();
  const auto at = [](Planner::WallClock::time_point t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  };
  {
    std::ofstream out(file);
    out << at(wall - 1s) << " socks5://user@h0:1080\n"
        << at(wall + 30s) << " socks5://user@h1:1080\n";
  }
  CacheWriter writer;
  Planner p(hops(2), opts(Strategy::round_robin));
  const auto now = Planner::Clock::now();
  p.remember_dead_hops(file, writer, now, wall);
  BOOST_TEST(p.alive(0, now));
  BOOST_TEST(!p.alive(1, now));
  BOOST_TEST(p.alive(1, now + 31s));
  p.report_failure(0, now);  // rewritten without the expired line, with h0's new one
  writer.flush();
  const std::string text = read_file(file);
  BOOST_TEST(text.find(at(wall - 1s)) == std::string::npos);
  BOOST_TEST(text.find("h0") != std::string::npos);
  BOOST_TEST(text.find("h1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
