/// Pre-authentication limits of the local SOCKS server.
#include "app/handshake_limits.hpp"

#include <algorithm>

namespace hc::app {
namespace {

std::string shown(const asio::ip::address& source) {
  return source.is_v4() ? source.to_string() : source.to_string() + "/64";
}

std::string seconds(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

}  // namespace

std::size_t default_max_handshakes(std::uint64_t descriptor_limit) {
  constexpr std::uint64_t kReserved = 16;  // stdio, epoll, the listener, DNS sockets, logs
  const std::uint64_t spare = descriptor_limit > kReserved ? descriptor_limit - kReserved : 0;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(spare / 2, 4, 4096));
}

asio::ip::address source_of(const asio::ip::address& peer) {
  if (peer.is_v4()) {
    return peer;
  }
  const asio::ip::address_v6 v6 = peer.to_v6();
  if (v6.is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes);
}

std::optional<std::string> HandshakeLimits::rate_limited(std::optional<Clock::time_point>& last_log,
                                                         std::uint64_t& quiet_drops,
                                                         std::string text, Clock::time_point now) {
  if (last_log && now - *last_log < log_interval) {
    ++quiet_drops;
    return std::nullopt;
  }
  if (quiet_drops > 0) {
    text += " (" + std::to_string(quiet_drops) + " more closed since the last message)";
  }
  last_log = now;
  quiet_drops = 0;
  return text;
}

HandshakeLimits::Admission HandshakeLimits::admit(const asio::ip::address& peer,
                                                  Clock::time_point now) {
  if (sources_.size() >= prune_at_) {
    prune(now);
  }
  const asio::ip::address key = source_of(peer);
  Source& source = sources_[key];
  if (source.cooldown_until) {
    if (now < *source.cooldown_until) {
      return {Verdict::cooling_down, std::nullopt};  // logged once, when it started
    }
    source.cooldown_until.reset();
    source.failures = 0;
  }
  if (source.active >= options_.max_per_source) {
    return {Verdict::source_busy,
            rate_limited(source.last_log, source.quiet_drops,
                         shown(key) + ": " + std::to_string(source.active) +
                             " connections already in handshake (the limit per source); "
                             "closing its new ones",
                         now)};
  }
  Admission admission;
  if (total_ >= options_.max_total) {
    auto busiest = std::max_element(
        sources_.begin(), sources_.end(),
        [](const auto& a, const auto& b) { return a.second.active < b.second.active; });
    const std::string text = std::to_string(total_) +
                             " connections in handshake (the limit for all sources, from the "
                             "descriptor limit); ";
    if (busiest->second.active <= source.active + 1) {
      return {Verdict::server_busy,
              rate_limited(server_last_log_, server_quiet_drops_,
                           text + "closing new ones, this one from " + shown(key), now),
              std::nullopt};
    }
    admission.log_line =
        rate_limited(server_last_log_, server_quiet_drops_,
                     text + "closing the oldest of " + shown(busiest->first) + " (" +
                         std::to_string(busiest->second.active) + ") for one from " + shown(key),
                     now);
    admission.evict = busiest->first;
    --busiest->second.active;
    --total_;
  }
  ++source.active;
  ++total_;
  return admission;
}

void HandshakeLimits::finished(const asio::ip::address& peer) {
  const auto it = sources_.find(source_of(peer));
  if (it == sources_.end() || it->second.active == 0) {
    return;  // not admitted: nothing was counted
  }
  --it->second.active;
  --total_;
}

std::optional<std::string> HandshakeLimits::auth_failed(const asio::ip::address& peer,
                                                        Clock::time_point now) {
  const asio::ip::address key = source_of(peer);
  Source& source = sources_[key];
  if (source.cooldown_until) {
    return std::nullopt;  // a connection admitted before the cooldown began
  }
  if (source.failures == 0 || now - source.window_start >= options_.failure_window) {
    source.failures = 0;
    source.window_start = now;
  }
  if (++source.failures < options_.max_auth_failures) {
    return std::nullopt;
  }
  source.cooldown_until = now + options_.cooldown;
  return shown(key) + ": " + std::to_string(source.failures) + " authentication failures within " +
         seconds(options_.failure_window) + "; closing its connections for " +
         seconds(options_.cooldown);
}

void HandshakeLimits::prune(Clock::time_point now) {
  std::erase_if(sources_, [&](const auto& entry) {
    const Source& s = entry.second;
    const bool counting = s.failures > 0 && now - s.window_start < options_.failure_window;
    const bool cooling = s.cooldown_until && now < *s.cooldown_until;
    const bool logging = s.last_log && now - *s.last_log < log_interval;
    return s.active == 0 && !counting && !cooling && !logging;
  });
  // Amortised: the next sweep waits until the map has doubled.
  prune_at_ = std::max<std::size_t>(64, sources_.size() * 2);
}

}  // namespace hc::app
