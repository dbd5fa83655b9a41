/// The request head an HTTP proxy client sends (RFC 9112): CONNECT in authority-form, or a
/// request in absolute-form ("GET http://host/path HTTP/1.1") to be forwarded in origin-form.
///
/// Sans-IO: feed() the bytes as they arrive; once done, leftover() holds what followed the head
/// (a request body, or tunnel payload after CONNECT), which belongs upstream, in order.
/// Forwarding rewrites the head: the request line in origin-form, Host taken from the URI (RFC
/// 9112 §3.2.2), the hop-by-hop headers of RFC 9110 §7.6.1 removed (Connection and the names it
/// lists, Keep-Alive, Proxy-Connection, Proxy-Authorization, TE, Trailer, Upgrade), and the
/// upstream connection made to persist exactly when the client's does (RFC 9112 §9.3):
/// "Connection: close" when the client asked for it or spoke HTTP/1.0 without keep-alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/http_fields.hpp"
#include "proto/types.hpp"

namespace hc::proto {

inline constexpr std::size_t kHttpMaxRequestHead = 16 * 1024;

/// Why a request head was refused; status_for() gives the HTTP answer.
enum class HttpProxyError {
  malformed = 1,    ///< not an HTTP/1.x request line and header fields
  head_too_large,   ///< over kHttpMaxRequestHead
  bad_target,       ///< the request-target names no usable host and port
  not_http_scheme,  ///< absolute-form with another scheme (https://: use CONNECT)
  origin_form,      ///< "GET /path": a request for a server, not a proxy
  bad_framing,      ///< an invalid or conflicting Content-Length / Transfer-Encoding
};
const std::error_category& http_proxy_category();
std::error_code make_error_code(HttpProxyError e);
/// The status line for a refused head: "400 Bad Request", "431 ...", "501 Not Implemented".
std::string_view http_status_for(HttpProxyError e);

enum class HttpProxyForm : std::uint8_t { connect, absolute };
/// How a message body ends: none, after content_length bytes, at the last chunk, or (responses
/// only) when the server closes the connection.
enum class HttpBodyKind : std::uint8_t { none, length, chunked, until_close };

struct HttpProxyRequest {
  HttpProxyForm form = HttpProxyForm::connect;
  std::string method;
  HostPort target;
  std::string version;  ///< "HTTP/1.1" or "HTTP/1.0"
  /// Proxy-Authorization: Basic, decoded; nullopt when absent or not a valid Basic value.
  std::optional<Credentials> credentials;
  HttpBodyKind body = HttpBodyKind::none;
  std::uint64_t content_length = 0;
  /// The client's connection persists after this request (HTTP/1.1 without "Connection: close",
  /// HTTP/1.0 with "Connection: keep-alive").
  bool keep_alive = true;
  /// Absolute-form only: the head to send to the target.
  std::vector<std::uint8_t> forward_head;
};

class HttpProxyRequestHead {
 public:
  enum class Result : std::uint8_t { need_more, done, error };

  /// Appends bytes; done once the blank line is seen. One head per codec: the next request on a
  /// persistent connection gets a new one, fed leftover() minus the body first.
  Result feed(std::span<const std::uint8_t> data);

  std::error_code error() const { return ec_; }
  const HttpProxyRequest& request() const { return request_; }
  std::span<const std::uint8_t> leftover() const { return buffer_.leftover(); }

 private:
  Result parse(std::string_view head);
  Result fail(HttpProxyError e);

  http::HeadBuffer buffer_{kHttpMaxRequestHead};
  HttpProxyRequest request_;
  std::error_code ec_;
  Result result_ = Result::need_more;
};

/// "Basic dXNlcjpwYXNz" as user and password; nullopt for another scheme or bad base64.
std::optional<Credentials> decode_basic_credentials(std::string_view value);

/// Parses "host:port" / "[v6]:port" (port required when default_port is 0).
std::optional<HostPort> parse_authority(std::string_view authority, std::uint16_t default_port);

/// Finds the end of a chunked body (RFC 9112 §7.1) in a stream of bytes fed in pieces.
class ChunkedBodyEnd {
 public:
  /// Consumes from `data` up to the end of the body; returns how many bytes belong to it. After
  /// done() nothing more is consumed; after failed() the framing is invalid.
  std::size_t feed(std::span<const std::uint8_t> data);
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State : std::uint8_t {
    size,
    extension,
    size_lf,
    data,
    data_cr,
    data_lf,
    trailer,
    trailer_lf,
    last_lf,
    done,
    failed
  };
  State state_ = State::size;
  std::uint64_t remaining_ = 0;
  unsigned digits_ = 0;
  bool line_empty_ = true;
};

/// Where a message body ends, whatever its framing, in a stream of bytes fed in pieces.
class HttpBodyEnd {
 public:
  HttpBodyEnd(HttpBodyKind kind, std::uint64_t length) : kind_(kind), remaining_(length) {}
  /// How many bytes of `data` belong to the body (all of them for until_close).
  std::size_t feed(std::span<const std::uint8_t> data);
  bool done() const;
  bool failed() const { return chunked_.failed(); }

 private:
  HttpBodyKind kind_;
  std::uint64_t remaining_;
  ChunkedBodyEnd chunked_;
};

}  // namespace hc::proto

template <>
struct std::is_error_code_enum<hc::proto::HttpProxyError> : std::true_type {};
