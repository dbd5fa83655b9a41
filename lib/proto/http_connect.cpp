#include "proto/http_connect.hpp"

#include <algorithm>
#include <string_view>

#include "proto/errors.hpp"

namespace hc::proto {
namespace {

constexpr std::size_t kStatusLineMax = 200;
constexpr std::size_t kDetailMax = 256;
constexpr std::size_t kCredentialMax = 255;
constexpr std::size_t kRecvChunk = 4096;

bool is_digit(std::uint8_t c) {
  return c >= '0' && c <= '9';
}

bool is_control(std::uint8_t c) {
  return c < 0x20 || c == 0x7F;
}

/// Printable ASCII only, so a hostile proxy cannot put escape sequences or newlines in our logs.
std::string sanitize(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (const char ch : text.substr(0, max)) {
    const auto c = static_cast<std::uint8_t>(ch);
    out += (c >= 0x20 && c < 0x7F) ? ch : '?';
  }
  return out;
}

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Checks the status line read so far against `HTTP/1.<d> <ddd>[ reason]` up to the reason,
/// so that a server speaking something else is refused at once instead of at the size limit.
/// `complete` says whether `line` is the whole line (line ending removed).
bool status_line_ok(std::span<const std::uint8_t> line, bool complete) {
  static constexpr std::string_view kVersion = "HTTP/1.";
  const std::size_t n = std::min<std::size_t>(line.size(), 13);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = line[i];
    bool ok = false;
    if (i < kVersion.size()) {
      ok = c == static_cast<std::uint8_t>(kVersion[i]);
    } else if (i == 7) {
      ok = is_digit(c);
    } else if (i == 8) {
      ok = c == ' ';
    } else if (i == 9) {
      ok = c >= '1' && c <= '9';  // status 0xx would make a zero (success) error_code
    } else if (i < 12) {
      ok = is_digit(c);
    } else {
      // A CR here may still turn out to be the start of the CRLF.
      ok = c == ' ' || (!complete && c == '\r');
    }
    if (!ok) {
      return false;
    }
  }
  return !complete || line.size() >= 12;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1])) << 8 |
                            static_cast<std::uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << 16;
    if (rest == 2) {
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1])) << 8;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// 1xx but 101: Switching Protocols would end HTTP on the connection, which CONNECT never asks.
bool is_interim(int status) {
  return status >= 100 && status < 200 && status != 101;
}

}  // namespace

HttpResponseHead::Result HttpResponseHead::feed(std::span<const std::uint8_t> data) {
  if (result_ != Result::need_more) {
    return result_;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());

  // Only the first limit_ bytes can hold the head; the rest can only be leftover.
  const std::size_t limit = std::min(buffer_.size(), limit_);
  for (; scanned_ < limit; ++scanned_) {
    if (buffer_[scanned_] != '\n') {
      continue;
    }
    std::size_t len = scanned_ - line_start_;
    if (len > 0 && buffer_[scanned_ - 1] == '\r') {
      --len;
    }
    const auto line = std::span<const std::uint8_t>(buffer_).subspan(line_start_, len);
    if (line_start_ == 0) {
      if (!status_line_ok(line, true)) {
        status_line_ = sanitize(as_chars(line), kStatusLineMax);
        return fail(HttpConnectError::bad_status_line);
      }
    } else if (len == 0) {
      return parse(scanned_ + 1);
    }
    line_start_ = scanned_ + 1;
  }

  if (line_start_ == 0 &&
      !status_line_ok(std::span<const std::uint8_t>(buffer_).first(scanned_), false)) {
    status_line_ = sanitize(as_chars(std::span(buffer_).first(scanned_)), kStatusLineMax);
    return fail(HttpConnectError::bad_status_line);
  }
  if (buffer_.size() >= limit_) {
    return fail(HttpConnectError::header_too_large);
  }
  return Result::need_more;
}

HttpResponseHead::Result HttpResponseHead::parse(std::size_t head_end) {
  const std::string_view head = as_chars(std::span(buffer_).first(head_end));
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    const std::size_t nl = head.find('\n', pos);
    std::string_view line = head.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (first) {
      // Already validated by feed().
      status_line_ = sanitize(line, kStatusLineMax);
      status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
      first = false;
      continue;
    }
    if (line.empty()) {
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value.
      if (headers_.empty()) {
        return fail(HttpConnectError::bad_header);
      }
      std::string& value = headers_.back().second;
      value += ' ';
      value += trim_ows(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail(HttpConnectError::bad_header);
    }
    const std::string_view name = trim_ows(line.substr(0, colon));
    if (name.empty()) {
      return fail(HttpConnectError::bad_header);
    }
    headers_.emplace_back(std::string(name), std::string(trim_ows(line.substr(colon + 1))));
  }

  head_size_ = head_end;
  leftover_.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(head_end), buffer_.end());
  buffer_.clear();
  buffer_.shrink_to_fit();
  result_ = Result::done;
  return result_;
}

HttpResponseHead::Result HttpResponseHead::fail(std::error_code ec) {
  ec_ = ec;
  buffer_.clear();
  buffer_.shrink_to_fit();
  result_ = Result::error;
  return result_;
}

std::optional<std::string> HttpResponseHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers_) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

HttpConnect::HttpConnect(HostPort target, std::optional<Credentials> creds)
    : target_(std::move(target)), creds_(std::move(creds)) {}

std::error_code HttpConnect::encode(const HostPort& target, const std::optional<Credentials>& creds,
                                    std::vector<std::uint8_t>& out) {
  // The host goes verbatim into the request line and a header: any control byte or space would
  // let it inject headers or a second request.
  if (target.host.empty() || std::any_of(target.host.begin(), target.host.end(), [](char c) {
        return c == ' ' || is_control(static_cast<std::uint8_t>(c));
      })) {
    return HttpConnectError::invalid_host;
  }
  if (creds && (creds->user.size() > kCredentialMax || creds->password.size() > kCredentialMax)) {
    return HttpConnectError::credentials_too_long;
  }

  const std::string authority = target.to_string();
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (creds) {
    request += "Proxy-Authorization: Basic " + base64(creds->user + ":" + creds->password) + "\r\n";
  }
  request += "\r\n";
  out.insert(out.end(), request.begin(), request.end());
  return {};
}

Step HttpConnect::start() {
  std::vector<std::uint8_t> request;
  if (const auto ec = encode(target_, creds_, request)) {
    return Step::fail(ec, Stage::request);
  }
  sent_ = true;
  return Step::send(std::move(request), Stage::request);
}

Step HttpConnect::resume(std::span<const std::uint8_t> received) {
  if (!sent_) {
    return start();  // misuse; repeating start() keeps the contract (send first, or the failure)
  }
  // The resume after the send carries no bytes; feeding nothing is harmless.
  HttpResponseHead::Result result = head_.feed(received);
  while (result == HttpResponseHead::Result::done && is_interim(head_.status())) {
    // The final response follows, perhaps already in the leftover; its head gets what room the
    // interim heads left of the one limit, so a stream of 1xx cannot grow without end.
    interim_bytes_ += head_.head_size();
    const std::vector<std::uint8_t> rest(head_.leftover().begin(), head_.leftover().end());
    head_ = HttpResponseHead(kHttpMaxHeaderBlock - interim_bytes_);
    result = head_.feed(rest);
  }
  switch (result) {
    case HttpResponseHead::Result::need_more:
      return Step::recv_some(kRecvChunk, Stage::request);
    case HttpResponseHead::Result::error:
      return Step::fail(head_.error(), Stage::request);
    case HttpResponseHead::Result::done:
      break;
  }
  if (head_.status() >= 200 && head_.status() < 300) {
    return Step::done();
  }
  return Step::fail(http_status(head_.status()), Stage::request);
}

std::string HttpConnect::detail() const {
  if (head_.error()) {
    return head_.status_line();  // what the server said instead of a status line, sanitized
  }
  const int status = head_.status();
  if (status == 0 || (status >= 200 && status < 300)) {
    return {};
  }
  std::string out = head_.status_line();
  if (status == 407) {
    if (const auto challenge = head_.header("Proxy-Authenticate")) {
      const std::string_view prefix = " (Proxy-Authenticate: ";
      if (out.size() + prefix.size() + 1 < kDetailMax) {
        const std::size_t room = kDetailMax - out.size() - prefix.size() - 1;
        out += prefix;
        out += sanitize(*challenge, room);
        out += ')';
      }
    }
  }
  return out;
}

}  // namespace hc::proto
