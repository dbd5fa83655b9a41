/// Chain strategies (proxychains style) as a layer above open_chain: which hops of the configured
/// list a connection uses, passive health of each hop, and bounded retries with other hops while
/// nothing has reached the user yet.
///   strict       every hop in order; any failure fails, no retry
///   dynamic      every live hop in order, dead ones skipped
///   random       chain_len hops picked at random from the live ones
///   round-robin  chain_len live hops, starting one further along the list on every connection
/// A hop is dead for fail_timeout after max_fails consecutive failures. When too few hops are
/// alive, dead ones are used anyway: a possibly-working chain beats a certain refusal. Except under
/// strict, dead hops are remembered across runs (chain/dead_hops.hpp) for the rest of that time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chain/cache_files.hpp"
#include "chain/dead_hops.hpp"
#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "proto/types.hpp"

namespace hc::chain {

enum class Strategy : std::uint8_t { strict, dynamic, random, round_robin };

std::optional<Strategy> parse_strategy(std::string_view text);
std::string_view to_string(Strategy strategy);

struct StrategyOptions {
  Strategy strategy = Strategy::strict;
  std::size_t chain_len = 1;  ///< random and round-robin only
  int max_fails = 1;
  std::chrono::milliseconds fail_timeout{30'000};
  std::size_t max_attempts = 3;  ///< chains tried per connection (not strict)
};

/// Selection and health state, shared by every connection and every event loop of one process,
/// so that health and the round-robin turn are the same for all. Thread-safe: one mutex, held for
/// a few operations per connection.
class Planner {
 public:
  using Clock = std::chrono::steady_clock;
  using WallClock = DeadHops::WallClock;

  Planner(Hops hops, StrategyOptions options, std::uint64_t seed = std::random_device{}());

  /// Indices into hops() for the next attempt. `tried` marks hops that already failed for this
  /// connection; they are avoided when enough others exist. `usable`, when not empty, marks the
  /// only hops that may be picked at all (a UDP association needs hops that carry UDP).
  std::vector<std::size_t> select(Clock::time_point now, const std::vector<bool>& tried,
                                  const std::vector<bool>& usable = {});

  void report_failure(std::size_t index, Clock::time_point now);
  void report_success(const std::vector<std::size_t>& used);
  bool alive(std::size_t index, Clock::time_point now) const;

  /// Hops found dead by earlier runs, read from `path` (a DeadHops file), start dead for the rest
  /// of their time (logged with -v); hops found dead from now on are saved there through
  /// `writer`, and hops that work again are taken out. Nothing under strict, which uses every hop
  /// whatever its health. Call once, before the first select().
  void remember_dead_hops(std::string path, CacheWriter& writer,
                          Clock::time_point now = Clock::now(),
                          WallClock::time_point wall_now = WallClock::now());

  /// A hop found unable to carry UDP (not plain SOCKS5, or it refused UDP ASSOCIATE): UDP
  /// associations leave it out from then on. Not a failure: it still serves TCP.
  void mark_without_udp(std::size_t index);
  bool without_udp(std::size_t index) const;

  const Hops& hops() const { return hops_; }
  const StrategyOptions& options() const { return options_; }

 private:
  struct Health {
    int fails = 0;
    Clock::time_point dead_until{};
  };
  /// Where dead hops are remembered across runs.
  struct Remembered {
    std::string path;
    CacheWriter* writer = nullptr;
    DeadHops dead;
    std::vector<std::string> urls;  ///< each hop's redacted URL, its key in `dead`
  };

  // The *_locked members expect mutex_ held.
  bool alive_locked(std::size_t index, Clock::time_point now) const;
  /// Candidates among `pool` in list order: live and untried first, then the rest by preference.
  std::vector<std::size_t> ranked(Clock::time_point now, const std::vector<bool>& tried,
                                  const std::vector<std::size_t>& pool) const;
  std::vector<std::size_t> select_locked(Clock::time_point now, const std::vector<bool>& tried,
                                         const std::vector<bool>& usable);
  void save_dead_hops_locked();

  Hops hops_;
  StrategyOptions options_;
  mutable std::mutex mutex_;  ///< guards everything below; hops_ and options_ never change
  std::vector<Health> health_;
  std::vector<bool> without_udp_;
  std::mt19937_64 rng_;
  std::size_t cursor_ = 0;  ///< round-robin start
  std::optional<Remembered> remembered_;
};

/// Which hop of `used` (an index into it) a failed attempt blames, if any: the hop that could
/// not be reached or refused its handshake; a refused request blames the hop it asked for, and
/// a failure reaching the final target blames nobody (other hops would not help).
std::optional<std::size_t> blamed_hop(const ChainError& error, std::size_t used_count);

/// One connection's way through a strategy, kept across open_chain_with_strategy calls so that a
/// chain which failed after it opened (it ended before its first byte) is retried without the
/// hop to blame, within the same bound on attempts.
struct ConnectionAttempts {
  std::vector<bool> tried;  ///< hops (indices into Planner::hops()) that failed this connection
  std::size_t made = 0;     ///< chains tried so far
  std::vector<std::size_t> used;  ///< the hops of the chain opened last, in path order
};

/// open_chain through services.planner when set (else straight through `hops`), retrying with
/// other hops after a hop failure, unless the failed attempt wrote some of the user's first bytes
/// and the hop to blame lacks grants-early=1 (they may have reached the target: never twice). The
/// error returned is the last attempt's. `attempts`: carried
/// over from earlier calls for the same connection (null: a fresh connection).
awaitable<ChainResult> open_chain_with_strategy(const Hops& hops, proto::HostPort target,
                                                Services& services,
                                                transport::FirstBytes* first_bytes = nullptr,
                                                ConnectionAttempts* attempts = nullptr);

/// After the chain opened last ended before its first byte: leaves its last hop out of this
/// connection's next chain and, when `blame`, counts a failure of it (for every connection). Only
/// a hop with grants-early=1 is blamed: through any other, the end may be the target's own
/// answer, and a target must not be able to mark a healthy hop dead. True when the strategy may
/// try another chain for this connection.
bool retry_without_last_hop(Planner& planner, ConnectionAttempts& attempts, bool blame);

}  // namespace hc::chain
