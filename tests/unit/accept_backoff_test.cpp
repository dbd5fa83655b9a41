// The accept loop's policy during a resource shortage (EMFILE and the like): pauses that grow
// and reset, and log lines rate-limited to one per interval.
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include <boost/test/unit_test.hpp>

#include "app/listener.hpp"

using hc::app::AcceptBackoff;
using namespace std::chrono_literals;

namespace {

std::error_code errc(int e) {
  return {e, std::system_category()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(accept_backoff)

BOOST_AUTO_TEST_CASE(only_resource_errors_count_as_shortage) {
  BOOST_TEST(hc::app::is_resource_shortage(errc(EMFILE)));
  BOOST_TEST(hc::app::is_resource_shortage(errc(ENFILE)));
  BOOST_TEST(hc::app::is_resource_shortage(errc(ENOBUFS)));
  BOOST_TEST(hc::app::is_resource_shortage(errc(ENOMEM)));
  BOOST_TEST(!hc::app::is_resource_shortage(errc(ECONNABORTED)));
  BOOST_TEST(!hc::app::is_resource_shortage(errc(EINVAL)));
}

BOOST_AUTO_TEST_CASE(pauses_double_up_to_a_second_and_reset_after_success) {
  AcceptBackoff backoff;
  auto now = AcceptBackoff::Clock::time_point{} + 1h;
  const std::chrono::milliseconds expected[] = {50ms, 100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (const auto want : expected) {
    const auto step = backoff.on_shortage(errc(EMFILE), now);
    BOOST_TEST(step.pause.count() == want.count());
    now += step.pause;
  }
  BOOST_TEST(backoff.on_success(now).has_value());
  BOOST_TEST(backoff.on_shortage(errc(EMFILE), now).pause.count() == 50);
}

BOOST_AUTO_TEST_CASE(logs_once_per_interval_and_once_on_recovery) {
  AcceptBackoff backoff;
  const auto start = AcceptBackoff::Clock::time_point{} + 1h;
  auto now = start;
  int lines = 0;
  std::string last;
  // 25 s of failures, one a second: the first line, then one at 10 s and one at 20 s.
  for (int i = 0; i <= 25; ++i) {
    const auto step = backoff.on_shortage(errc(EMFILE), now);
    if (step.log_line) {
      ++lines;
      last = *step.log_line;
    }
    now += 1s;
  }
  BOOST_TEST(lines == 3);
  BOOST_TEST(last.find("still failing after 20.0 s") != std::string::npos, last);
  BOOST_TEST(last.find("10 failed attempts since the last message") != std::string::npos, last);
  const auto recovered = backoff.on_success(now);
  BOOST_REQUIRE(recovered.has_value());
  BOOST_TEST(
      recovered->find("accepting again after 26.0 s (26 failed attempts)") != std::string::npos,
      *recovered);
  BOOST_TEST(!backoff.on_success(now).has_value());  // nothing more to say
}

BOOST_AUTO_TEST_CASE(a_listener_flapping_at_the_limit_logs_once_per_interval) {
  AcceptBackoff backoff;
  auto now = AcceptBackoff::Clock::time_point{} + 1h;
  int lines = 0;
  std::string last;
  // 30 s of: out of descriptors, then one accepted (a descriptor was freed), every 100 ms.
  for (int i = 0; i < 300; ++i) {
    if (auto line = backoff.on_shortage(errc(EMFILE), now).log_line) {
      ++lines;
      last = *line;
    }
    now += 50ms;
    if (auto line = backoff.on_success(now)) {
      ++lines;
      last = *line;
    }
    now += 50ms;
  }
  // t=0: the shortage and its end; t=10 s and t=20 s: a shortage (with the count kept quiet)
  // and its end.
  BOOST_TEST(lines == 6);
  BOOST_TEST(last.find("accepting again") != std::string::npos, last);
}

BOOST_AUTO_TEST_SUITE_END()
