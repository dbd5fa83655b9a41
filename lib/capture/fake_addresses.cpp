#include "capture/fake_addresses.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace hc::capture {
namespace {

constexpr std::uint32_t kV4Base = 0xC6120000;  // 198.18.0.0
constexpr std::uint32_t kV4Mask = 0xFFFE0000;  // /15
// fd00:6863::/64; a slot's offset fills the last 32 bits.
constexpr std::array<std::uint8_t, 8> kV6Prefix{0xfd, 0x00, 0x68, 0x63, 0, 0, 0, 0};

// Offsets start at 1: the ranges' first address (198.18.0.0, fd00:6863::) is never handed out.
std::uint32_t offset_of(std::uint32_t index) {
  return index + 1;
}

std::optional<std::uint32_t> v4_offset(const asio::ip::address_v4& a) {
  const std::uint32_t value = a.to_uint();
  if ((value & kV4Mask) != kV4Base) {
    return std::nullopt;
  }
  return value - kV4Base;
}

std::optional<std::uint32_t> v6_offset(const asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  if (!std::equal(kV6Prefix.begin(), kV6Prefix.end(), b.begin())) {
    return std::nullopt;
  }
  if (b[8] != 0 || b[9] != 0 || b[10] != 0 || b[11] != 0) {
    return std::numeric_limits<std::uint32_t>::max();  // in the /64, but never handed out
  }
  return static_cast<std::uint32_t>(b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15]);
}

std::optional<std::uint32_t> offset_in_ranges(const asio::ip::address& address) {
  if (address.is_v4()) {
    return v4_offset(address.to_v4());
  }
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return v4_offset(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
  }
  return v6_offset(v6);
}

}  // namespace

FakeAddresses::FakeAddresses(std::size_t capacity, Clock::duration min_idle)
    : capacity_(std::clamp<std::size_t>(capacity, 1, max_capacity)), min_idle_(min_idle) {}

std::optional<asio::ip::address_v4> FakeAddresses::v4(std::string_view name,
                                                      Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto index = slot_for(name, now);
  if (!index) {
    return std::nullopt;
  }
  return asio::ip::address_v4(kV4Base + offset_of(*index));
}

std::optional<asio::ip::address_v6> FakeAddresses::v6(std::string_view name,
                                                      Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto index = slot_for(name, now);
  if (!index) {
    return std::nullopt;
  }
  asio::ip::address_v6::bytes_type b{};
  std::copy(kV6Prefix.begin(), kV6Prefix.end(), b.begin());
  const std::uint32_t offset = offset_of(*index);
  for (int i = 0; i < 4; ++i) {
    b[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(offset >> (8 * i));
  }
  return asio::ip::address_v6(b);
}

std::optional<std::string> FakeAddresses::name_of(const asio::ip::address& address,
                                                  Clock::time_point now) {
  const auto offset = offset_in_ranges(address);
  if (!offset || *offset == 0) {
    return std::nullopt;
  }
  const std::lock_guard lock(mutex_);
  const std::size_t index = *offset - 1;
  if (index >= slots_.size()) {
    return std::nullopt;
  }
  touch(static_cast<std::uint32_t>(index), now);
  return slots_[index].name;
}

bool FakeAddresses::is_fake(const asio::ip::address& address) {
  return offset_in_ranges(address).has_value();
}

std::size_t FakeAddresses::size() const {
  const std::lock_guard lock(mutex_);
  return slots_.size();
}

std::optional<std::uint32_t> FakeAddresses::slot_for(std::string_view name, Clock::time_point now) {
  std::string key(name);
  if (const auto it = by_name_.find(key); it != by_name_.end()) {
    touch(it->second, now);
    return it->second;
  }
  std::uint32_t index;
  if (slots_.size() < capacity_) {
    index = static_cast<std::uint32_t>(slots_.size());
    lru_.push_front(index);
    slots_.push_back({key, now, lru_.begin()});
  } else {
    index = lru_.back();
    if (now - slots_[index].last_used < min_idle_) {
      return std::nullopt;
    }
    by_name_.erase(slots_[index].name);
    slots_[index].name = key;
    touch(index, now);
  }
  by_name_.emplace(std::move(key), index);
  return index;
}

void FakeAddresses::touch(std::uint32_t index, Clock::time_point now) {
  Slot& slot = slots_[index];
  slot.last_used = std::max(slot.last_used, now);
  lru_.splice(lru_.begin(), lru_, slot.lru);
}

}  // namespace hc::capture
