/// Duration options: only finite values within the option's range pass, named in the message.
#include "seconds_option.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cli.hpp"

using hc::cli::check_seconds;

BOOST_AUTO_TEST_SUITE(seconds_option)

BOOST_AUTO_TEST_CASE(finite_values_within_range_pass) {
  const hc::cli::SecondsRange positive{.zero_allowed = false, .max = 3600};
  for (const char* ok : {"10", "0.5", "3600", "1e3", "0.0001"}) {
    BOOST_TEST(check_seconds(ok, positive).empty(), ok);
  }
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "infinity", "-1", "0", "-0", "3600.5",
                          "1e10", "1e16", "1e400", "", "abc", "10s", " 10", "0x10"}) {
    const std::string error = check_seconds(bad, positive);
    BOOST_TEST(!error.empty(), bad);
    BOOST_TEST(error.find("more than 0 and at most 3600") != std::string::npos, error);
  }
  const hc::cli::SecondsRange zero_ok{.zero_allowed = true, .max = 86400};
  BOOST_TEST(check_seconds("0", zero_ok).empty());
  BOOST_TEST(check_seconds("86400", zero_ok).empty());
  BOOST_TEST(check_seconds("-0.001", zero_ok).find("from 0 to 86400") != std::string::npos);
  BOOST_TEST(!check_seconds("nan", zero_ok).empty());
  BOOST_TEST(check_seconds(std::string(100, '9'), zero_ok).size() < 100u);
}

BOOST_AUTO_TEST_CASE(milliseconds_round_up) {
  BOOST_TEST(hc::cli::to_milliseconds(0.0001).count() == 1);
  BOOST_TEST(hc::cli::to_milliseconds(2.5).count() == 2500);
  BOOST_TEST(hc::cli::to_milliseconds(86400).count() == 86400000);
}

// Every seconds option, through the real parser: exit 2 and a message naming the option.
BOOST_AUTO_TEST_CASE(every_seconds_option_is_checked) {
  const std::vector<std::vector<std::string>> cases = {
      {"--connect-timeout", "nan", "stdio", "h", "1"},
      {"--connect-timeout", "1e10", "stdio", "h", "1"},
      {"--fail-timeout", "inf", "stdio", "h", "1"},
      {"--fail-timeout", "-1", "stdio", "h", "1"},
      {"udp", "--udp-timeout", "0", "1:h:1"},
      {"udp", "--udp-timeout", "1e16", "1:h:1"},
  };
  for (auto args : cases) {
    const std::string option = args[0] == "udp" ? args[1] : args[0];
    args.insert(args.begin(), "hopchain");
    std::vector<const char*> argv;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
    }
    std::ostringstream out, err;
    const auto outcome = hc::cli::parse(static_cast<int>(argv.size()), argv.data(), out, err);
    BOOST_TEST(!outcome.config);
    BOOST_TEST(outcome.exit_code == 2);
    BOOST_TEST(err.str().rfind("hopchain: " + option + ": expected seconds", 0) == 0, err.str());
  }
}

BOOST_AUTO_TEST_SUITE_END()
