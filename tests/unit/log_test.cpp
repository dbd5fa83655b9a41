// Connection tags (log/log): short, distinct, and unique across threads.
#include "log/log.hpp"

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(log_tags)

BOOST_AUTO_TEST_CASE(tags_read_c_and_a_number) {
  const std::string tag = hc::log::next_connection_tag();
  BOOST_TEST(std::regex_match(tag, std::regex(R"(\[c[1-9][0-9]*\] )")));
  BOOST_TEST(hc::log::next_connection_tag() != tag);
}

BOOST_AUTO_TEST_CASE(tags_are_unique_across_threads) {
  // Forward mode's event loops (--workers) take tags concurrently.
  std::vector<std::vector<std::string>> taken(4);
  std::vector<std::thread> threads;
  for (auto& mine : taken) {
    threads.emplace_back([&mine] {
      for (int i = 0; i < 1000; ++i) {
        mine.push_back(hc::log::next_connection_tag());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::string> all;
  for (const auto& mine : taken) {
    all.insert(mine.begin(), mine.end());
  }
  BOOST_TEST(all.size() == 4000U);
}

BOOST_AUTO_TEST_SUITE_END()
