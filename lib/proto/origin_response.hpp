/// The head of a response an origin server sends to the HTTP proxy front (RFC 9112), and where
/// its body ends, so that a persistent connection can carry the next request.
///
/// Sans-IO: feed() the bytes as they arrive; once done, leftover() holds what followed the head.
/// Framing (RFC 9112 §6.3): no body for a response to HEAD, a 1xx, 204 or 304; chunked when the
/// last transfer coding is chunked, until the close for another coding; else Content-Length, else
/// until the close. Both Transfer-Encoding and Content-Length, or an invalid Content-Length, are
/// refused: a proxy that guessed would let a response smuggle another. A 1xx other than 101 is
/// interim: another head follows on the same connection. 101 is refused (the front never forwards
/// Upgrade).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/http_fields.hpp"
#include "proto/http_proxy_request.hpp"

namespace hc::proto {

inline constexpr std::size_t kOriginMaxResponseHead = 64 * 1024;

enum class OriginResponseError : std::uint8_t {
  malformed = 1,   ///< not an HTTP/1.x status line and header fields
  head_too_large,  ///< over kOriginMaxResponseHead
  bad_framing,     ///< an invalid or conflicting Content-Length / Transfer-Encoding
  upgrade,         ///< 101 Switching Protocols, never asked for
};
/// "malformed HTTP response head from the target", ...
std::string_view to_string(OriginResponseError e);

struct OriginResponse {
  unsigned status = 0;
  HttpBodyKind body = HttpBodyKind::none;
  std::uint64_t content_length = 0;
  bool interim = false;     ///< 1xx: forwarded, then the final response's head follows
  bool keep_alive = false;  ///< the server keeps the connection open after this response
  /// The status line and the end-to-end header fields (hop-by-hop ones removed, RFC 9110
  /// §7.6.1), each ending in CRLF: the client's head without its Connection field and empty line.
  std::string fields;
};

class OriginResponseHead {
 public:
  enum class Result : std::uint8_t { need_more, done, error };

  /// `head_request`: the request was HEAD, so the response has no body whatever it says.
  explicit OriginResponseHead(bool head_request) : head_request_(head_request) {}

  Result feed(std::span<const std::uint8_t> data);

  std::optional<OriginResponseError> error() const { return error_; }
  const OriginResponse& response() const { return response_; }
  std::span<const std::uint8_t> leftover() const { return buffer_.leftover(); }
  /// The head to send the client, with "Connection: <connection>" unless that is empty.
  std::vector<std::uint8_t> client_head(std::string_view connection) const;

 private:
  Result parse(std::string_view head);
  Result fail(OriginResponseError e);

  bool head_request_;
  http::HeadBuffer buffer_{kOriginMaxResponseHead};
  OriginResponse response_;
  std::optional<OriginResponseError> error_;
  Result result_ = Result::need_more;
};

}  // namespace hc::proto
