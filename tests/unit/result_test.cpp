#include "base/result.hpp"

#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

namespace {

hc::Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') {
    return hc::failure(std::string("not a digit: ") + c);
  }
  return c - '0';
}

hc::Result<void> check_even(int n) {
  if (n % 2 != 0) {
    return hc::failure("odd");
  }
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(result)

BOOST_AUTO_TEST_CASE(value_or_error) {
  const auto seven = parse_digit('7');
  BOOST_TEST(seven.has_value());
  BOOST_TEST(*seven == 7);
  const auto bad = parse_digit('x');
  BOOST_TEST(!bad);
  BOOST_TEST(bad.error() == "not a digit: x");
}

BOOST_AUTO_TEST_CASE(void_result) {
  BOOST_TEST(check_even(4).has_value());
  const auto odd = check_even(3);
  BOOST_TEST(!odd);
  BOOST_TEST(odd.error() == "odd");
}

BOOST_AUTO_TEST_CASE(move_only_values) {
  hc::Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> taken = std::move(r).value();
  BOOST_TEST(*taken == 5);
}

BOOST_AUTO_TEST_SUITE_END()
