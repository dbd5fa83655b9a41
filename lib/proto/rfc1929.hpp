/// RFC 1929 username/password sub-negotiation for SOCKS5, client side.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "proto/types.hpp"

namespace hc::proto::rfc1929 {

inline constexpr std::size_t kReplySize = 2;

/// VER=1 ULEN UNAME PLEN PASSWD; user and password must be 1..255 bytes.
std::error_code encode_request(const Credentials& creds, std::vector<std::uint8_t>& out);
/// VER must be 1 and STATUS 0.
std::error_code parse_reply(std::span<const std::uint8_t, kReplySize> reply);

}  // namespace hc::proto::rfc1929
