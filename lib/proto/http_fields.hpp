/// Pieces of HTTP/1.x message syntax (RFC 9110, RFC 9112) shared by the request and response
/// head codecs of the HTTP proxy front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hc::proto::http {

bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
/// RFC 9110 §5.6.2 tchar: method and field names.
bool is_token(std::string_view s);
/// A control byte other than HTAB.
bool has_control(std::string_view s);

struct Field {
  std::string_view name;
  std::string_view value;
};

/// Splits a head into its lines (CRLF or bare LF).
std::vector<std::string_view> split_lines(std::string_view head);
/// The header fields of lines[1..] up to the empty line; false for a malformed line (no colon,
/// space before the colon, obs-fold, control bytes: all smuggling vectors, RFC 9112 §5).
bool split_fields(const std::vector<std::string_view>& lines, std::vector<Field>& fields);

/// Headers that describe one connection only (RFC 9110 §7.6.1), never forwarded: Connection,
/// Keep-Alive, Proxy-Connection, Proxy-Authorization, TE, Trailer, Upgrade.
bool is_hop_by_hop(std::string_view name);
/// True when the comma-separated `list` (Connection options) names `name`.
bool listed_in(std::string_view list, std::string_view name);

/// What the header fields say about the connection and the body (RFC 9112 §6).
struct Framing {
  std::string connection;               ///< every Connection field's options, joined by commas
  std::optional<bool> chunked;          ///< Transfer-Encoding present: its last coding is chunked
  std::optional<std::uint64_t> length;  ///< Content-Length
};
/// False for an invalid or conflicting Content-Length, or one next to Transfer-Encoding: a proxy
/// that guessed which one counts would let a message smuggle another (RFC 9112 §6.1, §6.3).
bool read_framing(const std::vector<Field>& fields, Framing& out);

/// A message head arriving in pieces, up to its empty line ("\n\r\n" or "\n\n").
class HeadBuffer {
 public:
  enum class State : std::uint8_t { need_more, done, too_large };

  explicit HeadBuffer(std::size_t max_size) : max_size_(max_size) {}
  /// Appends bytes; done once the empty line is in, too_large past max_size without it.
  State feed(std::span<const std::uint8_t> data);
  /// Once done: the head, and the bytes that came after it.
  std::string_view head() const {
    return {reinterpret_cast<const char*>(buffer_.data()), buffer_.size()};
  }
  std::span<const std::uint8_t> leftover() const { return leftover_; }

 private:
  std::size_t max_size_;
  std::vector<std::uint8_t> buffer_;
  std::size_t scanned_ = 0;
  std::vector<std::uint8_t> leftover_;
};

}  // namespace hc::proto::http
