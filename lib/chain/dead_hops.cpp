#include "chain/dead_hops.hpp"

#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "base/lines.hpp"

namespace hc::chain {
namespace {

// Bounds the file for a user with very many hops, and what a garbled one can make us hold.
constexpr std::size_t kMaxEntries = 4096;

}  // namespace

DeadHops DeadHops::parse(std::string_view text, WallClock::time_point now) {
  DeadHops hops;
  while (!text.empty() && hops.until_.size() < kMaxEntries) {
    const std::string_view line = take_line(text);
    // "EXPIRY URL": the URL is the rest of the line (a user name may hold spaces).
    const std::size_t space = line.find(' ');
    std::int64_t seconds = 0;
    const char* end = line.data() + (space == std::string_view::npos ? line.size() : space);
    if (space == std::string_view::npos || space + 1 == line.size() ||
        std::from_chars(line.data(), end, seconds).ptr != end) {
      continue;
    }
    const WallClock::time_point until{std::chrono::seconds(seconds)};
    if (until > now) {
      hops.until_[std::string(line.substr(space + 1))] = until;
    }
  }
  return hops;
}

DeadHops DeadHops::load(const std::string& path, WallClock::time_point now) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), now);
}

std::string DeadHops::render(WallClock::time_point now) const {
  std::string text;
  for (const auto& [url, until] : until_) {
    if (until > now) {
      const auto seconds = std::chrono::ceil<std::chrono::seconds>(until.time_since_epoch());
      text += std::to_string(seconds.count()) + ' ' + url + '\n';
    }
  }
  return text;
}

std::optional<DeadHops::WallClock::time_point> DeadHops::dead_until(const std::string& url) const {
  const auto it = until_.find(url);
  return it == until_.end() ? std::nullopt : std::optional(it->second);
}

bool DeadHops::mark_dead(const std::string& url, WallClock::time_point until) {
  if (until_.size() >= kMaxEntries && !until_.contains(url)) {
    until_.erase(until_.begin());
  }
  auto& slot = until_[url];
  const bool changed = slot != until;
  slot = until;
  return changed;
}

bool DeadHops::mark_alive(const std::string& url) {
  return until_.erase(url) > 0;
}

}  // namespace hc::chain
