/// The addresses `exec --dns fake` answers with: each name asked for gets a slot, and the slot is
/// both an IPv4 address in 198.18.0.0/15 (RFC 2544, benchmarking: never a real host) and an IPv6
/// address in fd00:6863::/64 (a fixed ULA prefix, "hc" in its second group). A connection to
/// one of them goes to the chain as the name. A name keeps its slot for the pool's life unless
/// the pool fills up: then the slot used least recently is given to the new name, but only once
/// it has been idle for `min_idle` (a program may still be connecting to its address); with no
/// such slot the name gets none. Pure apart from its mutex: the caller passes the time (like
/// AcceptBackoff), so tests decide what is idle. Thread-safe: the DNS stub and every event loop
/// that accepts captured connections share one pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asio/ip/address.hpp>

namespace hc::capture {

class FakeAddresses {
 public:
  using Clock = std::chrono::steady_clock;

  /// 198.18.0.0/15 without its first and last address.
  static constexpr std::size_t max_capacity = (std::size_t{1} << 17) - 2;
  static constexpr std::size_t default_capacity = 65536;
  static constexpr std::chrono::seconds default_min_idle{120};

  /// `capacity` is clamped to 1..max_capacity.
  explicit FakeAddresses(std::size_t capacity = default_capacity,
                         Clock::duration min_idle = default_min_idle);

  /// The name's IPv4 / IPv6 address (`name` as the DNS codec spells it: lower case, no final
  /// dot); marks it used at `now`. nullopt when the pool is full and no slot is idle enough.
  std::optional<asio::ip::address_v4> v4(std::string_view name, Clock::time_point now);
  std::optional<asio::ip::address_v6> v6(std::string_view name, Clock::time_point now);

  /// The name an address was given to, marking it used at `now`; nullopt for an address that is
  /// not fake or that no name holds (never given, or given to another name since).
  std::optional<std::string> name_of(const asio::ip::address& address, Clock::time_point now);

  /// True for any address of the two ranges, held or not (an IPv4-mapped IPv6 address counts
  /// as its IPv4 form).
  static bool is_fake(const asio::ip::address& address);

  std::size_t size() const;

 private:
  struct Slot {
    std::string name;
    Clock::time_point last_used{};
    std::list<std::uint32_t>::iterator lru;  // its place in lru_
  };

  std::optional<std::uint32_t> slot_for(std::string_view name, Clock::time_point now);
  void touch(std::uint32_t index, Clock::time_point now);

  const std::size_t capacity_;
  const Clock::duration min_idle_;
  mutable std::mutex mutex_;  ///< guards everything below
  std::vector<Slot> slots_;   ///< index = offset in the ranges, minus one
  std::unordered_map<std::string, std::uint32_t> by_name_;
  std::list<std::uint32_t> lru_;  ///< slot indices, most recently used first
};

}  // namespace hc::capture
