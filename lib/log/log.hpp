/// Diagnostics on stderr, prefixed "hopchain: ". Never passed a password: callers print hops with
/// HopSpec::redacted().
#pragma once

#include <string>
#include <string_view>

namespace hc::log {

enum class Level : int { error = -1, info = 0, verbose = 1, debug = 2 };

/// -q -> -1, default 0, -v -> 1, -vv -> 2.
void set_verbosity(int verbosity);
bool enabled(Level level);
void write(Level level, std::string_view message);
/// Written whatever the verbosity, even with -q: output the user asked for (--stats).
void print(std::string_view message);

/// "[c1] ", "[c2] ", ...: a new tag for the lines of one connection of a serving mode, so that
/// the lines of concurrent connections can be told apart. Unique in the process (all threads).
std::string next_connection_tag();

inline void error(std::string_view m) {
  write(Level::error, m);
}
inline void info(std::string_view m) {
  write(Level::info, m);
}
inline void verbose(std::string_view m) {
  write(Level::verbose, m);
}
inline void debug(std::string_view m) {
  write(Level::debug, m);
}

}  // namespace hc::log
