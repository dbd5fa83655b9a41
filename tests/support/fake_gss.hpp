/// A fake GSS-API mechanism for the RFC 1961 codec's tests and fuzz target: a fixed two-token
/// context exchange, and wrap/unwrap with a sequence number and a checksum, so that tampered,
/// replayed and reordered messages fail the way a real mechanism's do. No security whatsoever.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "proto/gssapi_context.hpp"
#include "proto/gssapi_errors.hpp"

namespace hc::test {

class FakeGss final : public proto::GssContext {
 public:
  enum class Role { client, server };
  struct Options {
    bool mutual = true;             ///< the server answers the client's token (Kerberos AP-REP)
    std::size_t max_plaintext = 0;  ///< 0: as much as fits
    bool can_encrypt = true;        ///< false: wraps without confidentiality even when asked
  };

  explicit FakeGss(Role role) : FakeGss(role, Options{}) {}
  FakeGss(Role role, Options options) : role_(role), options_(options) {}

  static constexpr std::string_view kInit = "INIT";
  static constexpr std::string_view kAccept = "ACCEPT";

  Result<Progress, std::error_code> establish(std::span<const std::uint8_t> peer) override {
    const std::string_view text(reinterpret_cast<const char*>(peer.data()), peer.size());
    if (role_ == Role::client) {
      if (rounds_++ == 0) {
        return Progress{bytes(kInit), !options_.mutual};
      }
      if (text == kAccept) {
        return Progress{{}, true};
      }
    } else if (text == kInit) {
      return Progress{options_.mutual ? bytes(kAccept) : std::vector<std::uint8_t>{}, true};
    }
    return failure(make_error_code(proto::GssStatus::defective_token));
  }

  Result<std::vector<std::uint8_t>, std::error_code> wrap(std::span<const std::uint8_t> data,
                                                          bool confidential) override {
    const bool sealed = confidential && options_.can_encrypt;
    std::vector<std::uint8_t> out{kMagic, sent_++, static_cast<std::uint8_t>(sealed)};
    for (const std::uint8_t b : data) {
      out.push_back(sealed ? b ^ 0x5A : b);
    }
    out.push_back(checksum(out));
    return out;
  }

  Result<Unwrapped, std::error_code> unwrap(std::span<const std::uint8_t> token) override {
    using proto::GssStatus;
    if (token.size() < 4 || token[0] != kMagic) {
      return failure(make_error_code(GssStatus::defective_token));
    }
    if (checksum(token.first(token.size() - 1)) != token.back()) {
      return failure(make_error_code(GssStatus::bad_integrity));
    }
    if (token[1] != received_) {
      return failure(make_error_code(static_cast<std::uint8_t>(token[1] - received_) > 0x80
                                         ? GssStatus::duplicate_token
                                         : GssStatus::out_of_sequence));
    }
    ++received_;
    Unwrapped out{{}, token[2] != 0};
    for (const std::uint8_t b : token.subspan(3, token.size() - 4)) {
      out.data.push_back(out.confidential ? b ^ 0x5A : b);
    }
    return out;
  }

  std::size_t max_plaintext(std::size_t max_token, bool) override {
    const std::size_t fits = max_token > 4 ? max_token - 4 : 0;
    return options_.max_plaintext ? std::min(options_.max_plaintext, fits) : fits;
  }

 private:
  static constexpr std::uint8_t kMagic = 0xFA;
  static std::vector<std::uint8_t> bytes(std::string_view text) {
    return {text.begin(), text.end()};
  }
  static std::uint8_t checksum(std::span<const std::uint8_t> data) {
    unsigned sum = 0x33;
    for (const std::uint8_t b : data) {
      sum = (sum * 31 + b) & 0xFF;
    }
    return static_cast<std::uint8_t>(sum);
  }

  Role role_;
  Options options_;
  int rounds_ = 0;
  std::uint8_t sent_ = 0;
  std::uint8_t received_ = 0;
};

}  // namespace hc::test
