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

  /// Appends bytes; returns done once the blank line is seen, then leftover() holds the rest.
  Result feed(std::span<const std::uint8_t> data);

  std::error_code error() const { return ec_; }
  int status() const { return status_; }
  /// The status line without its line ending, with control bytes replaced, at most 200 bytes.
  const std::string& status_line() const { return status_line_; }
  std::span<const std::uint8_t> leftover() const { return leftover_; }
  /// Value of the first header with this name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;

 private:
  Result parse(std::size_t head_end);
  Result fail(std::error_code ec);

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
  bool sent_ = false;
};

}  // namespace hc::proto
