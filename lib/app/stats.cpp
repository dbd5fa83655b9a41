#include "app/stats.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "log/log.hpp"

namespace hc::app {
namespace {

/// `value` with one decimal, e.g. "34.2".
std::string one_decimal(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

/// 1024-based units with one decimal, from KiB on; `suffix` follows the unit ("" or "/s").
std::string binary_units(double value, const char* suffix) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (value < 1024) {
    return std::to_string(static_cast<std::uint64_t>(value)) + " B" + suffix;
  }
  std::size_t unit = 0;
  value /= 1024;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return one_decimal(value) + " " + kUnits[unit] + suffix;
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  return std::to_string(bytes) + " B (" + binary_units(static_cast<double>(bytes), "") + ")";
}

std::string format_duration(std::chrono::microseconds duration) {
  const long long us = duration.count() < 0 ? 0 : duration.count();
  char buffer[32];
  if (us < 10'000) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(us) / 1e3);
  } else if (us < 1'000'000) {
    std::snprintf(buffer, sizeof buffer, "%lld ms", (us + 500) / 1000);
  } else if (us < 10'000'000) {
    std::snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(us) / 1e6);
  } else if (us < 100'000'000) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(us) / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld s", (us + 500'000) / 1'000'000);
  }
  return buffer;
}

std::string format_rate(std::uint64_t bytes, std::chrono::microseconds duration) {
  const double seconds = static_cast<double>(std::max<long long>(duration.count(), 1)) / 1e6;
  return binary_units(static_cast<double>(bytes) / seconds, "/s");
}

std::vector<std::string> setup_lines(const chain::ChainTiming& timing,
                                     std::chrono::microseconds setup) {
  std::vector<std::string> lines;
  const std::size_t count = timing.hops.size();
  for (std::size_t k = 0; k < count; ++k) {
    const chain::HopTiming& hop = timing.hops[k];
    std::string line =
        "setup: hop " + std::to_string(k + 1) + "/" + std::to_string(count) + " " + hop.hop + ":";
    std::string sep = " ";
    if (k == 0 && timing.connected) {
      line += sep + "connected " + format_duration(*timing.connected);
      sep = ", ";
    }
    if (hop.tls) {
      line += sep + "tls " + format_duration(*hop.tls);
      sep = ", ";
    }
    if (hop.tunnel) {
      line += sep + "tunnel " + format_duration(*hop.tunnel);
    }
    if (hop.pipelined) {
      line += ", pipelined";
    }
    lines.push_back(std::move(line));
  }
  std::string last = "setup: target " + timing.target + " reached in " + format_duration(setup);
  if (count == 0 && timing.connected) {
    last += " (connected " + format_duration(*timing.connected) + ")";
  }
  lines.push_back(std::move(last));
  return lines;
}

std::string first_bytes_line(std::size_t sent, std::size_t with_request) {
  if (sent == 0) {
    return {};
  }
  std::string line = "setup: first bytes: " + format_bytes(with_request) + " with the request";
  if (sent > with_request) {
    line += ", " + format_bytes(sent - with_request) + " more before the reply";
  }
  return line;
}

std::string close_line(std::uint64_t sent, std::uint64_t received,
                       std::chrono::microseconds duration, const std::string& paths) {
  return "closed: sent " + format_bytes(sent) + ", received " + format_bytes(received) + " in " +
         format_duration(duration) + ", up " + format_rate(sent, duration) + ", down " +
         format_rate(received, duration) + (paths.empty() ? "" : "; " + paths);
}

std::string relay_paths(const relay::RelayStats& stats) {
  const auto path = [](const relay::DirectionStats& d) { return d.spliced ? "splice" : "copy"; };
  return std::string("up ") + path(stats.up) + ", down " + path(stats.down);
}

bool ServerStats::reporting() const {
  return stats_ || log::enabled(log::Level::verbose);
}

void ServerStats::report(const std::string& line) const {
  if (stats_) {
    log::print(line);
  } else {
    log::verbose(line);
  }
}

void ServerStats::opened() {
  const std::lock_guard lock(mutex_);
  ++open_;
  ++total_;
}

std::uint64_t ServerStats::open() const {
  const std::lock_guard lock(mutex_);
  return open_;
}

void ServerStats::abandoned() {
  const std::lock_guard lock(mutex_);
  --open_;
}

void ServerStats::chain_failed(const chain::ChainError& error) {
  const std::string key = error.who();
  const std::lock_guard lock(mutex_);
  ++failed_;
  for (auto& [where, count] : failures_) {
    if (where == key) {
      ++count;
      return;
    }
  }
  failures_.emplace_back(key, 1);
}

void ServerStats::closed(std::uint64_t sent, std::uint64_t received) {
  const std::lock_guard lock(mutex_);
  --open_;
  sent_ += sent;
  received_ += received;
}

std::string ServerStats::summary() const {
  const std::lock_guard lock(mutex_);
  std::string s = std::to_string(open_) + " open, " + std::to_string(total_) + " total, " +
                  std::to_string(failed_) + " failed, sent " + format_bytes(sent_) + ", received " +
                  format_bytes(received_);
  for (const auto& [where, count] : failures_) {
    s += "; " + where + ": " + std::to_string(count) + " failed";
  }
  return s;
}

ConnectionStats::ConnectionStats(std::string name, ServerStats& totals)
    : name_(std::move(name)), totals_(totals) {
  totals_.opened();
}

ConnectionStats::~ConnectionStats() {
  if (settled_) {
    return;
  }
  if (relay_started_ == Clock::time_point{}) {
    totals_.abandoned();
    return;
  }
  // Destroyed mid-relay: the process is exiting on a signal. What moved so far is still news.
  settled_ = true;
  totals_.closed(live_.up, live_.down);
  if (totals_.reporting()) {
    const auto duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - relay_started_);
    totals_.report(name_ + ": " + close_line(live_.up, live_.down, duration) + ", interrupted");
  }
}

void ConnectionStats::chain_done(const chain::ChainResult& result) {
  if (result.error) {
    totals_.chain_failed(*result.error);
    return;
  }
  relay_started_ = Clock::now();
  if (totals_.reporting()) {
    const auto setup =
        std::chrono::duration_cast<std::chrono::microseconds>(relay_started_ - started_);
    for (const std::string& line : setup_lines(result.timing, setup)) {
      totals_.report(name_ + ": " + line);
    }
    if (const std::string line =
            first_bytes_line(result.first_bytes_sent, result.first_bytes_with_request);
        !line.empty()) {
      totals_.report(name_ + ": " + line);
    }
  }
}

void ConnectionStats::closed(std::uint64_t sent, std::uint64_t received, const std::string& paths) {
  if (settled_) {
    return;
  }
  settled_ = true;
  totals_.closed(sent, received);
  if (totals_.reporting()) {
    const auto duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - relay_started_);
    totals_.report(name_ + ": " + close_line(sent, received, duration, paths));
  }
}

}  // namespace hc::app
