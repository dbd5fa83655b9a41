/// HTTP proxy request heads: see http_proxy_request.hpp for the contract.
#include "proto/http_proxy_request.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "proto/http_fields.hpp"

namespace hc::proto {
namespace {

using http::Field;
using http::iequals;
using http::trim;

class HttpProxyCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "http proxy request"; }
  std::string message(int ev) const override {
    switch (static_cast<HttpProxyError>(ev)) {
      case HttpProxyError::malformed:
        return "malformed HTTP request head";
      case HttpProxyError::head_too_large:
        return "HTTP request head larger than 16 KiB";
      case HttpProxyError::bad_target:
        return "the request-target names no valid host and port";
      case HttpProxyError::not_http_scheme:
        return "only http:// URIs are forwarded; use CONNECT for https";
      case HttpProxyError::origin_form:
        return "not a proxy request (the request-target is not an absolute http:// URI)";
      case HttpProxyError::bad_framing:
        return "invalid or conflicting Content-Length / Transfer-Encoding";
    }
    return "unknown HTTP proxy request error";
  }
};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      // Padding only at the end, at most two.
      if (in.size() - i > 2 || in.substr(i).find_first_not_of('=') != std::string_view::npos) {
        return std::nullopt;
      }
      break;
    }
    const int v = base64_value(in[i]);
    if (v < 0) {
      return std::nullopt;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xFF);
      out += static_cast<char>((bits >> 8) & 0xFF);
      out += static_cast<char>(bits & 0xFF);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out += static_cast<char>((bits >> 4) & 0xFF);
  } else if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xFF);
    out += static_cast<char>((bits >> 2) & 0xFF);
  }
  return out;
}

/// Credentials, Connection options and body framing from the header fields.
std::optional<HttpProxyError> read_fields(const std::vector<Field>& fields, HttpProxyRequest& r,
                                          std::string& connection) {
  for (const Field& f : fields) {
    if (iequals(f.name, "proxy-authorization") && !r.credentials) {
      r.credentials = decode_basic_credentials(f.value);
    }
  }
  http::Framing framing;
  // The last coding must be chunked, or the request's length is unknowable (RFC 9112 §6.3).
  if (!http::read_framing(fields, framing) || framing.chunked == false) {
    return HttpProxyError::bad_framing;
  }
  connection = std::move(framing.connection);
  const auto& length = framing.length;
  r.body = framing.chunked         ? HttpBodyKind::chunked
           : length && *length > 0 ? HttpBodyKind::length
                                   : HttpBodyKind::none;
  r.content_length = length.value_or(0);
  return std::nullopt;
}

/// "http://host[:port]/path?q" → target and origin-form; false for anything else.
bool parse_absolute(std::string_view uri, HostPort& target, std::string& authority,
                    std::string& path, HttpProxyError& why) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) {
    why = uri.starts_with("/") ? HttpProxyError::origin_form : HttpProxyError::bad_target;
    return false;
  }
  if (!iequals(uri.substr(0, scheme_end), "http")) {
    why = HttpProxyError::not_http_scheme;
    return false;
  }
  uri.remove_prefix(scheme_end + 3);
  const auto end = uri.find_first_of("/?#");
  authority = std::string(uri.substr(0, end));
  std::string_view rest = end == std::string_view::npos ? std::string_view{} : uri.substr(end);
  rest = rest.substr(0, rest.find('#'));  // fragments are not sent (RFC 9110 §4.2.5)
  path = rest.starts_with("/") ? std::string(rest) : "/" + std::string(rest);
  why = HttpProxyError::bad_target;
  if (authority.find('@') != std::string::npos) {
    return false;  // userinfo is deprecated and would leak into logs
  }
  const auto parsed = parse_authority(authority, 80);
  if (!parsed) {
    return false;
  }
  target = *parsed;
  return true;
}

}  // namespace

const std::error_category& http_proxy_category() {
  static const HttpProxyCategory category;
  return category;
}

std::error_code make_error_code(HttpProxyError e) {
  return {static_cast<int>(e), http_proxy_category()};
}

std::string_view http_status_for(HttpProxyError e) {
  switch (e) {
    case HttpProxyError::head_too_large:
      return "431 Request Header Fields Too Large";
    case HttpProxyError::not_http_scheme:
      return "501 Not Implemented";
    default:
      return "400 Bad Request";
  }
}

std::optional<HostPort> parse_authority(std::string_view authority, std::uint16_t default_port) {
  std::string_view host;
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) {
      return std::nullopt;
    }
    port = after.empty() ? after : after.substr(1);
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::nullopt;  // an IPv6 literal must be in brackets
    }
  }
  const bool bad_host =
      host.empty() || std::any_of(host.begin(), host.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7F || c == '/' || c == '@' || c == '[' || c == ']';
      });
  if (bad_host) {
    return std::nullopt;
  }
  unsigned value = default_port;
  if (!port.empty()) {
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || port.size() > 5) {
      return std::nullopt;
    }
  }
  if (value == 0 || value > 65535) {
    return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::optional<Credentials> decode_basic_credentials(std::string_view value) {
  value = trim(value);
  const auto space = value.find(' ');
  if (space == std::string_view::npos || !iequals(value.substr(0, space), "basic")) {
    return std::nullopt;
  }
  const auto decoded = base64_decode(trim(value.substr(space + 1)));
  if (!decoded) {
    return std::nullopt;
  }
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

HttpProxyRequestHead::Result HttpProxyRequestHead::fail(HttpProxyError e) {
  ec_ = make_error_code(e);
  result_ = Result::error;
  return result_;
}

HttpProxyRequestHead::Result HttpProxyRequestHead::feed(std::span<const std::uint8_t> data) {
  using State = http::HeadBuffer::State;
  const State state = result_ == Result::need_more ? buffer_.feed(data) : State::need_more;
  if (state == State::too_large) {
    return fail(HttpProxyError::head_too_large);
  }
  return state == State::done ? parse(buffer_.head()) : result_;
}

HttpProxyRequestHead::Result HttpProxyRequestHead::parse(std::string_view head) {
  const std::vector<std::string_view> lines = http::split_lines(head);
  // Request line: method SP request-target SP HTTP-version (RFC 9112 §3).
  const std::string_view line = lines.front();
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(HttpProxyError::malformed);
  }
  HttpProxyRequest& r = request_;
  r.method = std::string(line.substr(0, sp1));
  const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  r.version = std::string(line.substr(sp2 + 1));
  std::vector<Field> fields;
  if (!http::is_token(r.method) || uri.empty() || http::has_control(uri) ||
      (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") || !http::split_fields(lines, fields)) {
    return fail(HttpProxyError::malformed);
  }
  std::string connection;  // every Connection field's options, joined
  if (const auto why = read_fields(fields, r, connection)) {
    return fail(*why);
  }
  // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
  const bool http10 = r.version == "HTTP/1.0";
  r.keep_alive =
      http10 ? http::listed_in(connection, "keep-alive") : !http::listed_in(connection, "close");
  if (iequals(r.method, "CONNECT")) {
    r.form = HttpProxyForm::connect;
    const auto target = parse_authority(uri, 0);
    if (!target) {
      return fail(HttpProxyError::bad_target);
    }
    r.target = *target;
    result_ = Result::done;
    return result_;
  }
  r.form = HttpProxyForm::absolute;
  std::string authority;
  std::string path;
  HttpProxyError why = HttpProxyError::bad_target;
  if (!parse_absolute(uri, r.target, authority, path, why)) {
    return fail(why);
  }
  std::string out = r.method + " " + path + " " + r.version + "\r\nHost: " + authority + "\r\n";
  for (const Field& f : fields) {
    if (!http::is_hop_by_hop(f.name) && !iequals(f.name, "host") &&
        !http::listed_in(connection, f.name)) {
      out += std::string(f.name) + ": " + std::string(f.value) + "\r\n";
    }
  }
  // The upstream connection persists exactly when the client's does.
  if (!r.keep_alive) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  r.forward_head.assign(out.begin(), out.end());
  result_ = Result::done;
  return result_;
}

std::size_t ChunkedBodyEnd::feed(std::span<const std::uint8_t> data) {
  std::size_t i = 0;
  while (i < data.size() && state_ != State::done && state_ != State::failed) {
    const char c = static_cast<char>(data[i]);
    switch (state_) {
      case State::size: {
        const int v = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
        if (v >= 0 && digits_ < 15) {
          remaining_ = remaining_ * 16 + static_cast<unsigned>(v);
          ++digits_;
        } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
          state_ = State::extension;
        } else if (digits_ > 0 && (c == '\r' || c == '\n')) {
          state_ = c == '\r' ? State::size_lf : (remaining_ ? State::data : State::trailer);
        } else {
          state_ = State::failed;
        }
        break;
      }
      case State::extension:
        if (c == '\r' || c == '\n') {
          state_ = c == '\r' ? State::size_lf : (remaining_ ? State::data : State::trailer);
        }
        break;
      case State::size_lf:
        state_ = c != '\n' ? State::failed : (remaining_ ? State::data : State::trailer);
        break;
      case State::data: {
        const auto n = std::min<std::uint64_t>(remaining_, data.size() - i);
        remaining_ -= n;
        i += static_cast<std::size_t>(n);
        if (remaining_ == 0) {
          state_ = State::data_cr;
        }
        continue;
      }
      case State::data_cr:
      case State::data_lf:
        if (c == '\n') {
          state_ = State::size;
          digits_ = 0;
        } else {
          state_ = (state_ == State::data_cr && c == '\r') ? State::data_lf : State::failed;
        }
        break;
      case State::trailer:
        if (line_empty_ && (c == '\r' || c == '\n')) {
          state_ = c == '\r' ? State::last_lf : State::done;
        } else if (c == '\r') {
          state_ = State::trailer_lf;
        } else {
          line_empty_ = c == '\n';
        }
        break;
      case State::trailer_lf:
      case State::last_lf:
        if (c != '\n') {
          state_ = State::failed;
        } else {
          state_ = state_ == State::last_lf ? State::done : State::trailer;
          line_empty_ = true;
        }
        break;
      case State::done:
      case State::failed:
        break;
    }
    ++i;
  }
  return i;
}

std::size_t HttpBodyEnd::feed(std::span<const std::uint8_t> data) {
  switch (kind_) {
    case HttpBodyKind::none:
      return 0;
    case HttpBodyKind::length: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      remaining_ -= n;
      return n;
    }
    case HttpBodyKind::chunked:
      return chunked_.feed(data);
    case HttpBodyKind::until_close:
      return data.size();
  }
  return 0;
}

bool HttpBodyEnd::done() const {
  switch (kind_) {
    case HttpBodyKind::none:
      return true;
    case HttpBodyKind::length:
      return remaining_ == 0;
    case HttpBodyKind::chunked:
      return chunked_.done();
    case HttpBodyKind::until_close:
      return false;
  }
  return true;
}

}  // namespace hc::proto
