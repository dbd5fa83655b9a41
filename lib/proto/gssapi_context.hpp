/// The GSS-API calls the SOCKS5 GSS-API method (RFC 1961) needs, behind an interface: the codec
/// stays sans-IO and is unit-tested and fuzzed with a fake mechanism, while the Kerberos one
/// (libgssapi_krb5) lives with the transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "base/result.hpp"

namespace hc::proto {

/// The per-message protection of RFC 1961 section 4. `none` (0) is not in the RFC; Dante
/// ("clear") and curl use it for "authentication only", so a server may select it.
enum class Protection : std::uint8_t { none = 0, integrity = 1, confidentiality = 2 };

const char* protection_name(Protection level);

/// One side of a security context.
class GssContext {
 public:
  struct Progress {
    std::vector<std::uint8_t> token;  ///< to send to the peer; may be empty
    bool complete = false;            ///< the context is established
  };
  struct Unwrapped {
    std::vector<std::uint8_t> data;
    bool confidential = false;  ///< it was encrypted, not only integrity-protected
  };

  virtual ~GssContext() = default;
  /// gss_init_sec_context (client; an empty token on the first call) or
  /// gss_accept_sec_context (server) with the peer's last token.
  virtual Result<Progress, std::error_code> establish(std::span<const std::uint8_t> peer_token) = 0;
  virtual Result<std::vector<std::uint8_t>, std::error_code> wrap(
      std::span<const std::uint8_t> data, bool confidential) = 0;
  virtual Result<Unwrapped, std::error_code> unwrap(std::span<const std::uint8_t> token) = 0;
  /// gss_wrap_size_limit: the most plaintext whose wrapped token fits in `max_token` bytes.
  virtual std::size_t max_plaintext(std::size_t max_token, bool confidential) = 0;
  /// The authenticated peer's principal once the context is established (for log lines;
  /// never a token), or empty.
  virtual std::string peer_name() const { return {}; }
};

}  // namespace hc::proto
