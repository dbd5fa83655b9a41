/// Strategy selection, passive health and the retrying open_chain wrapper.
#include "chain/strategy.hpp"

#include <algorithm>
#include <ctime>
#include <numeric>
#include <string>

#include "log/log.hpp"

namespace hc::chain {
namespace {

/// "14:05:09", local time: when a remembered dead hop will be tried again.
std::string clock_time(DeadHops::WallClock::time_point t) {
  const std::time_t seconds = DeadHops::WallClock::to_time_t(t);
  std::tm local{};
  char text[16] = "?";
  if (::localtime_r(&seconds, &local) != nullptr) {
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
  }
  return text;
}

}  // namespace

std::optional<Strategy> parse_strategy(std::string_view text) {
  if (text == "strict") {
    return Strategy::strict;
  }
  if (text == "dynamic") {
    return Strategy::dynamic;
  }
  if (text == "random") {
    return Strategy::random;
  }
  if (text == "round-robin") {
    return Strategy::round_robin;
  }
  return std::nullopt;
}

std::string_view to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::strict:
      return "strict";
    case Strategy::dynamic:
      return "dynamic";
    case Strategy::random:
      return "random";
    case Strategy::round_robin:
      return "round-robin";
  }
  return "strict";
}

Planner::Planner(Hops hops, StrategyOptions options, std::uint64_t seed)
    : hops_(std::move(hops)),
      options_(options),
      health_(hops_.size()),
      without_udp_(hops_.size(), false),
      rng_(seed) {
  options_.max_fails = std::max(options_.max_fails, 1);
}

bool Planner::alive(std::size_t index, Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  return alive_locked(index, now);
}

bool Planner::alive_locked(std::size_t index, Clock::time_point now) const {
  return health_[index].fails < options_.max_fails || now >= health_[index].dead_until;
}

void Planner::report_failure(std::size_t index, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  Health& h = health_[index];
  // A hop whose dead time ran out gets a fresh count: one more failure marks it dead again.
  if (h.fails >= options_.max_fails && now >= h.dead_until) {
    h.fails = options_.max_fails - 1;
  }
  if (++h.fails >= options_.max_fails) {
    h.dead_until = now + options_.fail_timeout;
    if (remembered_ && options_.fail_timeout.count() > 0) {
      // Wall clock for other runs; `now` may be any steady time (tests).
      remembered_->dead.mark_dead(remembered_->urls[index],
                                  WallClock::now() + options_.fail_timeout);
      save_dead_hops_locked();
    }
  }
}

void Planner::report_success(const std::vector<std::size_t>& used) {
  const std::lock_guard lock(mutex_);
  bool changed = false;
  for (const std::size_t i : used) {
    health_[i] = Health{};
    if (remembered_ && remembered_->dead.mark_alive(remembered_->urls[i])) {
      changed = true;
    }
  }
  if (changed) {
    save_dead_hops_locked();
  }
}

void Planner::mark_without_udp(std::size_t index) {
  const std::lock_guard lock(mutex_);
  without_udp_[index] = true;
}

bool Planner::without_udp(std::size_t index) const {
  const std::lock_guard lock(mutex_);
  return without_udp_[index];
}

void Planner::remember_dead_hops(std::string path, CacheWriter& writer, Clock::time_point now,
                                 WallClock::time_point wall_now) {
  if (options_.strategy == Strategy::strict || path.empty()) {
    return;
  }
  const std::lock_guard lock(mutex_);
  Remembered& r = remembered_.emplace(Remembered{std::move(path), &writer, {}, {}});
  r.dead = DeadHops::load(r.path, wall_now);
  for (std::size_t i = 0; i < hops_.size(); ++i) {
    r.urls.push_back(hops_[i]->redacted);
    const auto until = r.dead.dead_until(r.urls[i]);
    if (!until) {
      continue;
    }
    // Never longer than this run's --fail-timeout, which may be shorter than the last one's.
    const auto left = std::min<Clock::duration>(
        std::chrono::ceil<Clock::duration>(*until - wall_now), options_.fail_timeout);
    health_[i].fails = options_.max_fails;
    health_[i].dead_until = now + left;
    log::verbose(hop_label(i + 1, hops_.size(), r.urls[i]) +
                 ": skipped, found dead by an earlier run (until " +
                 clock_time(wall_now + std::chrono::duration_cast<WallClock::duration>(left)) +
                 ")");
  }
}

void Planner::save_dead_hops_locked() {
  remembered_->writer->save(remembered_->path, remembered_->dead.render(WallClock::now()));
}

std::vector<std::size_t> Planner::ranked(Clock::time_point now, const std::vector<bool>& tried,
                                         const std::vector<std::size_t>& pool) const {
  // Tier 0: alive and untried; 1: dead and untried; 2: already failed for this connection.
  auto tier = [&](std::size_t i) {
    if (i < tried.size() && tried[i]) {
      return 2;
    }
    return alive_locked(i, now) ? 0 : 1;
  };
  std::vector<std::size_t> order = pool;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return tier(a) < tier(b); });
  return order;
}

std::vector<std::size_t> Planner::select(Clock::time_point now, const std::vector<bool>& tried,
                                         const std::vector<bool>& usable) {
  const std::lock_guard lock(mutex_);
  return select_locked(now, tried, usable);
}

std::vector<std::size_t> Planner::select_locked(Clock::time_point now,
                                                const std::vector<bool>& tried,
                                                const std::vector<bool>& usable) {
  const std::size_t n = hops_.size();
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  const bool any_tried = std::any_of(tried.begin(), tried.end(), [](bool t) { return t; });
  if (options_.strategy == Strategy::strict || n == 0) {
    return any_tried ? std::vector<std::size_t>{} : all;
  }
  if (!usable.empty()) {
    std::erase_if(all, [&](std::size_t i) { return i >= usable.size() || !usable[i]; });
    if (all.empty()) {
      return {};
    }
  }
  auto is_tried = [&](std::size_t i) { return i < tried.size() && tried[i]; };
  std::vector<std::size_t> untried;
  std::copy_if(all.begin(), all.end(), std::back_inserter(untried),
               [&](std::size_t i) { return !is_tried(i); });
  if (untried.empty()) {
    return {};  // every hop already failed for this connection
  }

  if (options_.strategy == Strategy::dynamic) {
    std::vector<std::size_t> live;
    std::copy_if(untried.begin(), untried.end(), std::back_inserter(live),
                 [&](std::size_t i) { return alive_locked(i, now); });
    return live.empty() ? untried : live;  // all dead: try them anyway
  }

  const std::size_t len = std::min(std::max<std::size_t>(options_.chain_len, 1), all.size());
  std::vector<std::size_t> order = ranked(now, tried, all);
  if (options_.strategy == Strategy::random) {
    // Shuffle within each tier so preference survives but the pick is random.
    auto tier_end = [&](auto from) {
      return std::find_if(from, order.end(), [&](std::size_t i) {
        const int t = is_tried(i) ? 2 : (alive_locked(i, now) ? 0 : 1);
        const int t0 = is_tried(*from) ? 2 : (alive_locked(*from, now) ? 0 : 1);
        return t != t0;
      });
    };
    for (auto it = order.begin(); it != order.end();) {
      auto end = tier_end(it);
      std::shuffle(it, end, rng_);
      it = end;
    }
    order.resize(len);
    return order;
  }

  // Round-robin: walk the list from the cursor, preferring live untried hops, keeping list
  // order from the cursor so consecutive connections rotate through the hops. Hops that may not
  // be picked are passed over, and do not count as a turn.
  std::vector<std::size_t> rotated;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (cursor_ + k) % n;
    if (std::find(all.begin(), all.end(), i) != all.end()) {
      rotated.push_back(i);
    }
  }
  auto rank = [&](std::size_t i) { return is_tried(i) ? 2 : (alive_locked(i, now) ? 0 : 1); };
  std::vector<std::size_t> picked;
  for (int t = 0; t <= 2 && picked.size() < len; ++t) {
    for (const std::size_t i : rotated) {
      if (rank(i) == t && picked.size() < len) {
        picked.push_back(i);
      }
    }
  }
  // Path order follows the rotation, not the tier the hop came from.
  std::sort(picked.begin(), picked.end(), [&](std::size_t a, std::size_t b) {
    return (a + n - cursor_) % n < (b + n - cursor_) % n;
  });
  // The next turn starts after the len-th hop that could have been picked (with every hop
  // usable, len further along the list).
  cursor_ = (rotated[len - 1] + 1) % n;
  return picked;
}

std::optional<std::size_t> blamed_hop(const ChainError& error, std::size_t used_count) {
  if (error.at_target() || error.hop > used_count) {
    return std::nullopt;
  }
  const std::size_t k = error.hop - 1;
  if (error.stage == proto::Stage::request) {
    // Hop k could not reach what it was asked for: the next hop, or the target itself.
    if (k + 1 < used_count) {
      return k + 1;
    }
    return std::nullopt;
  }
  return k;
}

namespace {

std::size_t attempt_bound(const Planner& planner) {
  return planner.options().strategy == Strategy::strict
             ? 1
             : std::max<std::size_t>(planner.options().max_attempts, 1);
}

}  // namespace

awaitable<ChainResult> open_chain_with_strategy(const Hops& hops, proto::HostPort target,
                                                Services& services,
                                                transport::FirstBytes* first_bytes,
                                                ConnectionAttempts* attempts) {
  Planner* planner = services.planner;
  if (planner == nullptr) {
    co_return co_await open_chain(hops, std::move(target), services, first_bytes);
  }
  ConnectionAttempts fresh;
  ConnectionAttempts& state = attempts != nullptr ? *attempts : fresh;
  state.tried.resize(planner->hops().size(), false);
  ChainResult last;
  const std::size_t bound = attempt_bound(*planner);
  while (state.made < bound) {
    const std::vector<std::size_t> used = planner->select(Planner::Clock::now(), state.tried);
    // An empty selection is a direct connection only when the list itself is empty (--direct);
    // a list with hops never falls back to one.
    if (used.empty() && (state.made > 0 || !planner->hops().empty())) {
      break;
    }
    ++state.made;
    state.used = used;
    Hops chain;
    chain.reserve(used.size());
    for (const std::size_t i : used) {
      chain.push_back(planner->hops()[i]);
    }
    last = co_await open_chain(std::move(chain), target, services, first_bytes);
    if (!last.error) {
      planner->report_success(used);
      co_return last;
    }
    const auto blamed = blamed_hop(*last.error, used.size());
    if (!blamed) {
      co_return last;  // the target's fault: other hops would not help
    }
    if (last.first_bytes_sent > 0 && !planner->hops()[used[*blamed]]->spec.grants_early) {
      // The user's bytes went with the last request: whether they reached the target cannot be
      // told, so they are not sent again. The hop is still counted as failed.
      planner->report_failure(used[*blamed], Planner::Clock::now());
      log::verbose(services.log_tag + last.error->message() +
                   "; not retrying: " + std::to_string(last.first_bytes_sent) +
                   " bytes of the user's went out with the request (grants-early=1 on that hop "
                   "allows sending them again)");
      co_return last;
    }
    planner->report_failure(used[*blamed], Planner::Clock::now());
    state.tried[used[*blamed]] = true;
    if (state.made < bound) {
      log::verbose(services.log_tag + last.error->message() + "; retrying without " +
                   planner->hops()[used[*blamed]]->redacted);
    }
  }
  if (!last.error) {
    // Every hop already failed this connection (a retry after an earlier chain ended early).
    last.error = ChainError::of_target(target.to_string(), hops.size(), proto::Stage::connect,
                                       ChainErrc::no_hop_left);
  }
  co_return last;
}

bool retry_without_last_hop(Planner& planner, ConnectionAttempts& attempts, bool blame) {
  if (attempts.used.empty()) {
    return false;
  }
  const std::size_t last = attempts.used.back();
  if (blame) {
    planner.report_failure(last, Planner::Clock::now());
  }
  if (last < attempts.tried.size()) {
    attempts.tried[last] = true;
  }
  return attempts.made < attempt_bound(planner);
}

}  // namespace hc::chain
