/// HTTP/1.1 CONNECT client handshake, and the bounded response-head parser it uses.
///
/// The response length is unknown in advance, so the codec reads with recv_some and keeps any
/// bytes after the blank line as leftover(): they are tunnel payload (an SSH banner, say).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "proto/step.hpp"
#include "proto/types.hpp"

namespace hc::proto {

inline constexpr std::size_t kHttpMaxHeaderBlock = 16 * 1024;

/// Incremental parser of an HTTP response head (status line + headers + blank line). Accepts CRLF
/// and bare LF line endings; HTTP/1.0 and HTTP/1.1.
class HttpResponseHead {
 public:
  enum class Result : std::uint8_t { need_more, done, error };

  /// `limit`: the most bytes the head may take (what interim responses before it left over).
  explicit HttpResponseHead(std::size_t limit = kHttpMaxHeaderBlock) : limit_(limit) {}

  /// Appends bytes; returns done once the blank line is seen, then leftover() holds the rest.
  Result feed(std::span<const std::uint8_t> data);

  std::error_code error() const { return ec_; }
  int status() const { return status_; }
  /// The status line without its line ending, with control bytes replaced, at most 200 bytes.
  const std::string& status_line() const { return status_line_; }
  std::span<const std::uint8_t> leftover() const { return leftover_; }
  /// Bytes of the head itself (status line to blank line), once done.
  std::size_t head_size() const { return head_size_; }
  /// Value of the first header with this name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;

 private:
  Result parse(std::size_t head_end);
  Result fail(std::error_code ec);

  std::size_t limit_;
  std::size_t head_size_ = 0;
  std::vector<std::uint8_t> buffer_;  // the head so far (and, transiently, what follows it)
  std::size_t scanned_ = 0;           // bytes of buffer_ already searched for the blank line
  std::size_t line_start_ = 0;        // offset of the line scanned_ is in
  std::vector<std::uint8_t> leftover_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string status_line_;
  int status_ = 0;
  std::error_code ec_;
  Result result_ = Result::need_more;
};

/// Interim (1xx) responses before the final one are read and skipped, as RFC 9110 §15.2 asks of
/// every client; their heads count against the same kHttpMaxHeaderBlock as the final head. 101
/// (Switching Protocols) is not interim here: CONNECT asks for no upgrade, so it is a refusal.
class HttpConnect final : public Handshake {
 public:
  HttpConnect(HostPort target, std::optional<Credentials> creds);

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;
  std::span<const std::uint8_t> leftover() const override { return head_.leftover(); }
  /// The status line on failure ("HTTP/1.1 403 Forbidden").
  std::string detail() const override;

  /// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization: Basic ...]\r\n\r\n"
  static std::error_code encode(const HostPort& target, const std::optional<Credentials>& creds,
                                std::vector<std::uint8_t>& out);

  const HttpResponseHead& response() const { return head_; }

 private:
  HostPort target_;
  std::optional<Credentials> creds_;
  HttpResponseHead head_;
  std::size_t interim_bytes_ = 0;  ///< heads of the 1xx responses skipped so far
  bool sent_ = false;
};

}  // namespace hc::proto
