#include "seconds_option.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace hc::cli {

std::string check_seconds(const std::string& text, SecondsRange range) {
  std::ostringstream want;
  want << "expected seconds " << (range.zero_allowed ? "from 0 to " : "more than 0 and at most ")
       << range.max;
  // Echo a bounded prefix only: the value is the user's, but need not be printed whole.
  const std::string shown = text.size() > 32 ? text.substr(0, 32) + "..." : text;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return want.str() + ", not '" + shown + "'";
  }
  const bool low = range.zero_allowed ? value < 0 : !(value > 0);
  if (!std::isfinite(value) || low || value > range.max) {
    return want.str() + ", not " + shown;
  }
  return {};
}

CLI::Validator seconds_in(SecondsRange range) {
  return CLI::Validator([range](std::string& text) { return check_seconds(text, range); }, "");
}

std::chrono::milliseconds to_milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

}  // namespace hc::cli
