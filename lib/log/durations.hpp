/// Durations as log lines write them, one way everywhere.
#pragma once

#include <chrono>
#include <string>

namespace hc::log {

/// "12.3 ms" since `start`: loopback hops take well under a millisecond, so keep a decimal.
std::string ms_since(std::chrono::steady_clock::time_point start);

/// A timeout as the user gave it: "10 s", or "250 ms" when not whole seconds.
std::string seconds_text(std::chrono::steady_clock::duration d);

}  // namespace hc::log
