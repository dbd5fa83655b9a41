/// Per-connection statistics (-v, --stats) and a serving mode's running totals (SIGUSR1, and
/// --stats at exit). Lines are fixed-format for grep; man/hopchain.1 (STATISTICS) documents them:
///   NAME: setup: hop 1/2 socks5://a:1080: connected 0.4 ms, tunnel 1.2 ms
///   NAME: setup: hop 2/2 https://b:443: tls 3.1 ms, tunnel 4.0 ms, pipelined
///   NAME: setup: target example.org:80 reached in 4.1 ms
///   NAME: setup: first bytes: 21 B with the request
///   NAME: closed: sent 120 B, received 35012 B (34.2 KiB) in 1.52 s, up 78 B/s, down 22.5 KiB/s;
///         up splice, down splice
///   stats: 2 open, 15 total, 1 failed, sent 120 B, received 900 B; hop 2/2 URL: 1 failed
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "chain/chain_error.hpp"
#include "chain/open_chain.hpp"
#include "relay/relay.hpp"

namespace hc::app {

// Pure formatting, unit-tested.

/// "512 B"; from 1 KiB on the exact count and a readable one: "35012 B (34.2 KiB)".
std::string format_bytes(std::uint64_t bytes);
/// "0.4 ms", "12.3 ms", "345 ms", "1.52 s", "75.3 s", "812 s".
std::string format_duration(std::chrono::microseconds duration);
/// "79 B/s", "22.5 KiB/s", "1.4 MiB/s", "1.1 GiB/s"; a zero duration counts as 1 µs.
std::string format_rate(std::uint64_t bytes, std::chrono::microseconds duration);
/// The "setup:" lines of a chain, without the connection's name: one per hop, then the target.
/// `setup` is the whole setup as the connection saw it (retries under a strategy included).
std::vector<std::string> setup_lines(const chain::ChainTiming& timing,
                                     std::chrono::microseconds setup);
/// "setup: first bytes: 21 B with the request" (optimistic data), plus ", 5 B more before the
/// reply" for what went while the replies came; empty when none of the user's bytes went early.
std::string first_bytes_line(std::size_t sent, std::size_t with_request);
/// "closed: sent ..., received ... in D, up R, down R", then "; PATHS" when `paths` is set.
std::string close_line(std::uint64_t sent, std::uint64_t received,
                       std::chrono::microseconds duration, const std::string& paths = {});
/// How the relay carried each direction: "up splice, down copy" (splice: zero-copy in the
/// kernel; copy: through a buffer here, as a TLS layer or HOPCHAIN_RELAY=copy requires).
std::string relay_paths(const relay::RelayStats& stats);

/// Running totals of a serving mode (forward, socks, udp): one per process, shared by forward
/// mode's event loops (--workers), so every count is taken under a lock.
class ServerStats {
 public:
  using Clock = std::chrono::steady_clock;

  /// `stats`: --stats was given; each connection's summary is then printed whatever -v/-q say.
  explicit ServerStats(bool stats = false) : stats_(stats) {}

  /// Per-connection lines go out: --stats, or -v.
  bool reporting() const;
  /// Prints a per-connection line: always with --stats, else at -v.
  void report(const std::string& line) const;

  void opened();
  /// A chain that could not be opened, counted against the hop that reported the failure.
  void chain_failed(const chain::ChainError& error);
  /// A connection ended after relaying.
  void closed(std::uint64_t sent, std::uint64_t received);
  /// A connection ended without relaying (its chain failed, or its client gave up).
  void abandoned();

  /// Connections accepted and not yet ended.
  std::uint64_t open() const;

  /// "2 open, 15 total, 1 failed, sent ..., received ...; hop 2/2 URL: 1 failed".
  std::string summary() const;

 private:
  bool stats_;
  mutable std::mutex mutex_;
  std::uint64_t open_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  /// "hop 2/2 socks5://b:1080" or "target host:port" -> failures, in first-failure order.
  std::vector<std::pair<std::string, std::uint64_t>> failures_;
};

/// One connection's report: setup lines when its chain is open, the close line at the end, and
/// its part of the totals. Leaving scope without closed() counts as abandoned().
class ConnectionStats {
 public:
  using Clock = std::chrono::steady_clock;

  /// `name` prefixes each line ("forward 8080 from 127.0.0.1:40000"); `totals` must outlive it.
  ConnectionStats(std::string name, ServerStats& totals);
  ~ConnectionStats();
  ConnectionStats(const ConnectionStats&) = delete;
  ConnectionStats& operator=(const ConnectionStats&) = delete;

  /// Call with open_chain's result: logs the setup lines, or counts the failure.
  void chain_done(const chain::ChainResult& result);
  /// The relay starts on a connection that no open_chain gave (a peer a BIND accepted): its
  /// close line counts from now.
  void relaying() { relay_started_ = Clock::now(); }
  /// The relay ended: logs the close line and adds the bytes to the totals.
  void closed(std::uint64_t sent, std::uint64_t received, const std::string& paths = {});
  /// The same from the relay's stats, with the path each direction took.
  void closed(const relay::RelayStats& stats) {
    closed(stats.up.bytes, stats.down.bytes, relay_paths(stats));
  }
  /// Counts the relay keeps up to date, so that a connection cut short while relaying (the
  /// process interrupted) still gets its close line, marked "interrupted", from the destructor.
  relay::LiveBytes* live() { return &live_; }

 private:
  std::string name_;
  ServerStats& totals_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point relay_started_{};
  bool settled_ = false;
  relay::LiveBytes live_;
};

}  // namespace hc::app
