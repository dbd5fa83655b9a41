#include "proto/rfc1929.hpp"

#include "proto/errors.hpp"

namespace hc::proto::rfc1929 {

std::error_code encode_request(const Credentials& creds, std::vector<std::uint8_t>& out) {
  // RFC 1929 §2: ULEN and PLEN are single octets of at least 1.
  if (creds.user.empty()) {
    return Socks5Error::empty_user;
  }
  if (creds.user.size() > 255) {
    return Socks5Error::user_too_long;
  }
  if (creds.password.empty()) {
    return Socks5Error::empty_password;
  }
  if (creds.password.size() > 255) {
    return Socks5Error::password_too_long;
  }
  out.push_back(0x01);  // RFC 1929 §2: sub-negotiation version 1
  out.push_back(static_cast<std::uint8_t>(creds.user.size()));
  out.insert(out.end(), creds.user.begin(), creds.user.end());
  out.push_back(static_cast<std::uint8_t>(creds.password.size()));
  out.insert(out.end(), creds.password.begin(), creds.password.end());
  return {};
}

std::error_code parse_reply(std::span<const std::uint8_t, kReplySize> reply) {
  // RFC 1929 §2: VER STATUS; any STATUS other than 0 is a failure.
  if (reply[0] != 0x01) {
    return Socks5Error::auth_bad_version;
  }
  if (reply[1] != 0x00) {
    return Socks5Error::auth_failed;
  }
  return {};
}

}  // namespace hc::proto::rfc1929
