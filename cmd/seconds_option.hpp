/// Options that take a number of seconds (--connect-timeout, --fail-timeout, --udp-timeout):
/// refused at parse time unless finite and within a range, so a NaN, an infinity or 1e16 cannot
/// reach a timer and overflow it.
#pragma once

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

namespace hc::cli {

struct SecondsRange {
  bool zero_allowed = false;  ///< 0 is accepted (otherwise the value must be more than 0)
  double max = 3600;          ///< accepted up to and including this many seconds
};

/// Checks TEXT, an option's value as given. Returns a message naming the accepted range (the
/// option's name is added by the caller), empty when TEXT is acceptable.
std::string check_seconds(const std::string& text, SecondsRange range);

/// check_seconds as a CLI11 validator; it adds nothing to the help's type column.
CLI::Validator seconds_in(SecondsRange range);

/// A checked value in whole milliseconds, rounded up (so 0.0001 still waits a millisecond).
std::chrono::milliseconds to_milliseconds(double seconds);

}  // namespace hc::cli
