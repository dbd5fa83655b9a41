#include "proto/socks4.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>

#include "proto/errors.hpp"

namespace hc::proto {

Socks4Connect::Socks4Connect(HostPort target, std::string userid, bool allow_name)
    : target_(std::move(target)), userid_(std::move(userid)), allow_name_(allow_name) {}

std::error_code Socks4Connect::encode(const HostPort& target, const std::string& userid,
                                      bool allow_name, std::vector<std::uint8_t>& out,
                                      Socks4Command command) {
  std::array<std::uint8_t, 4> v4{};
  const bool is_address = parse_ipv4_literal(target.host, v4);
  if (!is_address) {
    if (is_ipv6_literal(target.host)) {
      return Socks4Error::ipv6_target;
    }
    if (!allow_name) {
      return Socks4Error::name_target;
    }
    // The name is NUL-terminated on the wire, so these bytes would end or corrupt it.
    if (target.host.empty() || has_forbidden_name_byte(target.host)) {
      return Socks4Error::invalid_name;
    }
    if (target.host.size() > 255) {
      return Socks4Error::name_too_long;
    }
    // SOCKS4a: DSTIP 0.0.0.x with x != 0 tells the server a name follows the USERID.
    v4[3] = 1;
  }
  // USERID is NUL-terminated; a NUL inside it would end it early and shift the name.
  if (userid.find('\0') != std::string::npos) {
    return Socks4Error::invalid_userid;
  }
  if (userid.size() > 255) {
    return Socks4Error::userid_too_long;
  }
  out.push_back(0x04);                                // VN
  out.push_back(static_cast<std::uint8_t>(command));  // CD
  out.push_back(static_cast<std::uint8_t>(target.port >> 8));
  out.push_back(static_cast<std::uint8_t>(target.port & 0xFF));
  out.insert(out.end(), v4.begin(), v4.end());
  out.insert(out.end(), userid.begin(), userid.end());
  out.push_back(0x00);
  if (!is_address) {
    out.insert(out.end(), target.host.begin(), target.host.end());
    out.push_back(0x00);
  }
  return {};
}

std::error_code Socks4Connect::parse_reply(std::span<const std::uint8_t, kSocks4ReplySize> reply) {
  // The reply's VN is 0, not 4; DSTPORT and DSTIP are meaningless for CONNECT and ignored.
  if (reply[0] != 0x00) {
    return Socks4Error::bad_reply_version;
  }
  if (reply[1] != 0x5A) {
    return socks4_reply(reply[1]);
  }
  return {};
}

Step Socks4Connect::fail(std::error_code ec) {
  state_ = State::failed;
  ec_ = ec;
  return Step::fail(ec, Stage::request);
}

Step Socks4Connect::start() {
  have_ = 0;
  ec_ = {};
  std::vector<std::uint8_t> request;
  if (auto ec = encode(target_, userid_, allow_name_, request)) {
    return fail(ec);
  }
  state_ = State::sending;
  return Step::send(std::move(request), Stage::request);
}

Step Socks4Connect::resume(std::span<const std::uint8_t> received) {
  switch (state_) {
    case State::idle:
    case State::failed:
      return Step::fail(ec_ ? ec_ : std::make_error_code(std::errc::invalid_argument),
                        Stage::request);
    case State::done:
      return Step::done();
    case State::sending:
      if (!received.empty()) {
        return fail(std::make_error_code(std::errc::invalid_argument));
      }
      state_ = State::reply;
      return Step::recv_exactly(kSocks4ReplySize, Stage::request);
    case State::reply:
      break;
  }
  // Tolerate a runner that delivers the reply in pieces; more than asked for is a runner bug
  // (those bytes would be tunnel payload we must not swallow).
  if (received.size() > kSocks4ReplySize - have_) {
    return fail(std::make_error_code(std::errc::invalid_argument));
  }
  std::copy(received.begin(), received.end(), reply_.begin() + static_cast<std::ptrdiff_t>(have_));
  have_ += received.size();
  if (have_ < kSocks4ReplySize) {
    return Step::recv_exactly(kSocks4ReplySize - have_, Stage::request);
  }
  if (auto ec = parse_reply(reply_)) {
    return fail(ec);
  }
  state_ = State::done;
  return Step::done();
}

}  // namespace hc::proto
