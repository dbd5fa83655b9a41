/// SOCKS5 address fields, ATYP ADDR PORT (RFC 1928 §4, §5), shared by requests, replies and the
/// UDP header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "proto/types.hpp"

namespace hc::proto::socks5 {

inline constexpr std::uint8_t kAtypIpv4 = 0x01;
inline constexpr std::uint8_t kAtypDomain = 0x03;
inline constexpr std::uint8_t kAtypIpv6 = 0x04;

/// Appends ATYP ADDR PORT: IPv4/IPv6 literals as addresses, anything else as a domain (1..255
/// bytes, no NUL/CR/LF/space). Never falls back to anything else.
std::error_code encode_address(const HostPort& target, std::vector<std::uint8_t>& out);

struct DecodedAddress {
  std::error_code ec;      ///< set on malformed input
  std::size_t needed = 0;  ///< when no error and consumed == 0: total bytes needed so far
  std::size_t consumed = 0;
  HostPort address;
};
/// Decodes ATYP ADDR PORT from the start of `in`. If `in` is too short, returns consumed == 0 and
/// `needed` = the total length required given what is known (1 + ... as soon as ATYP and the
/// domain length byte are visible).
DecodedAddress decode_address(std::span<const std::uint8_t> in);

}  // namespace hc::proto::socks5
