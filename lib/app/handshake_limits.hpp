/// Limits on the local SOCKS server's clients before they are served: how many connections may
/// be in their handshake (greeting, authentication, request) at once, from one source and in
/// all, and a cooldown for a source that keeps failing authentication. Idle clients then cannot
/// use up the descriptors or queue real clients behind them, and a password guesser gets a few
/// guesses a minute instead of thousands a second.
///
/// A source is an IPv4 address, or an IPv6 /64 (what one host or site usually holds). Pure: the
/// caller passes the time; log lines come back at most once per source and 10 s (a cooldown: once
/// when it starts), without the listener's label.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "transport/asio.hpp"

namespace hc::app {

struct HandshakeLimitsOptions {
  std::size_t max_total = 256;      ///< in handshake, every source together
  std::size_t max_per_source = 16;  ///< in handshake, one source
  unsigned max_auth_failures = 5;   ///< failed RFC 1929 logins within `failure_window`...
  std::chrono::seconds failure_window{60};
  std::chrono::seconds cooldown{60};  ///< ...close the source's connections at accept this long
};

/// The total for a process allowed `descriptor_limit` open files: half of what is left after a
/// few for the process itself, so that handshakes cannot starve the tunnels being served (each
/// holds two or more), between 4 and 4096.
std::size_t default_max_handshakes(std::uint64_t descriptor_limit);

/// The source a peer address counts for: IPv4 (also when IPv4-mapped) as is, IPv6 as its /64.
asio::ip::address source_of(const asio::ip::address& peer);

class HandshakeLimits {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds log_interval{10};

  enum class Verdict : std::uint8_t {
    admitted,      ///< counted as in handshake until finished()
    source_busy,   ///< the source has max_per_source in handshake
    server_busy,   ///< max_total in handshake, and no source holds more than this one would
    cooling_down,  ///< the source failed authentication too often
  };
  struct Admission {
    Verdict verdict = Verdict::admitted;
    std::optional<std::string> log_line = {};
    /// Admitted at the total limit by taking the place of the oldest handshake of this source,
    /// the one holding the most: the caller closes that connection, already counted out (no
    /// finished() for it). So a full server still lets in a source that holds few handshakes,
    /// and flooding from several addresses does not lock out everyone else.
    std::optional<asio::ip::address> evict = {};
  };

  explicit HandshakeLimits(HandshakeLimitsOptions options) : options_(options) {}

  /// A new connection from `peer`: serve it (maybe in place of another), or close it now.
  Admission admit(const asio::ip::address& peer, Clock::time_point now);
  /// An admitted connection's handshake is over (done, refused or timed out).
  void finished(const asio::ip::address& peer);
  /// A failed login from `peer`; returns the line that starts its cooldown, if this one does.
  std::optional<std::string> auth_failed(const asio::ip::address& peer, Clock::time_point now);

  std::size_t in_handshake() const { return total_; }
  std::size_t tracked_sources() const { return sources_.size(); }
  const HandshakeLimitsOptions& options() const { return options_; }

 private:
  struct Source {
    std::size_t active = 0;
    unsigned failures = 0;
    Clock::time_point window_start{};
    std::optional<Clock::time_point> cooldown_until;
    std::optional<Clock::time_point> last_log;
    std::uint64_t quiet_drops = 0;
  };
  static std::optional<std::string> rate_limited(std::optional<Clock::time_point>& last_log,
                                                 std::uint64_t& quiet_drops, std::string text,
                                                 Clock::time_point now);
  void prune(Clock::time_point now);

  HandshakeLimitsOptions options_;
  std::map<asio::ip::address, Source> sources_;
  std::size_t total_ = 0;
  std::optional<Clock::time_point> server_last_log_;
  std::uint64_t server_quiet_drops_ = 0;
  std::size_t prune_at_ = 64;
};

}  // namespace hc::app
