/// Hops found dead, remembered across runs, so that a short run (an ssh ProxyCommand) does not
/// wait out a dead hop's timeout again when the previous run already did. The file,
/// $XDG_CACHE_HOME/hopchain/health, has one "EXPIRY URL" line per dead hop: EXPIRY in seconds
/// since the epoch (wall clock: runs share no steady clock), URL the hop's redacted URL (no
/// password). Pure: time is a parameter, and the Planner does the reading and locking.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hc::chain {

class DeadHops {
 public:
  using WallClock = std::chrono::system_clock;

  /// The hops of `text` still dead at `now`; expired and malformed lines are dropped.
  static DeadHops parse(std::string_view text, WallClock::time_point now);
  /// parse() of the file at `path` (none, or unreadable: no dead hops).
  static DeadHops load(const std::string& path, WallClock::time_point now);

  /// The file's text: the hops still dead at `now`.
  std::string render(WallClock::time_point now) const;

  std::optional<WallClock::time_point> dead_until(const std::string& url) const;
  /// True if it changed what the file would say.
  bool mark_dead(const std::string& url, WallClock::time_point until);
  bool mark_alive(const std::string& url);

 private:
  std::map<std::string, WallClock::time_point> until_;
};

}  // namespace hc::chain
