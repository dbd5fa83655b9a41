/// SOCKS4 and SOCKS4a CONNECT, client side (BIND: Socks4Bind in proto/socks_bind.hpp).
///
/// Request: VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL; SOCKS4a puts 0.0.0.x in DSTIP and appends
/// the host name and a NUL. Reply: exactly 8 bytes, VN=0, CD=0x5A granted.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/step.hpp"
#include "proto/types.hpp"

namespace hc::proto {

inline constexpr std::size_t kSocks4ReplySize = 8;

/// The request's CD.
enum class Socks4Command : std::uint8_t { connect = 0x01, bind = 0x02 };

class Socks4Connect final : public Handshake {
 public:
  /// `allow_name`: SOCKS4a. A target that is an IPv4 literal is always sent as an address.
  Socks4Connect(HostPort target, std::string userid, bool allow_name);

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  /// The request bytes, or an error when the target or user id cannot be encoded.
  static std::error_code encode(const HostPort& target, const std::string& userid, bool allow_name,
                                std::vector<std::uint8_t>& out,
                                Socks4Command command = Socks4Command::connect);
  /// Checks an 8-byte reply: success, a socks4_reply code, or Socks4Error::bad_reply_version.
  static std::error_code parse_reply(std::span<const std::uint8_t, kSocks4ReplySize> reply);

 private:
  enum class State : std::uint8_t { idle, sending, reply, done, failed };
  Step fail(std::error_code ec);

  HostPort target_;
  std::string userid_;
  bool allow_name_;
  State state_ = State::idle;
  std::array<std::uint8_t, kSocks4ReplySize> reply_{};
  std::size_t have_ = 0;  // reply bytes received so far
  std::error_code ec_;    // the failure, repeated if resumed after it
};

}  // namespace hc::proto
