#include "proto/url_fields.hpp"

#include <algorithm>

#include "proto/errors.hpp"

namespace hc::proto::url {
namespace {

/// Control characters are never valid in credentials; a percent-encoded space is (RFC 1929 and
/// Basic auth carry any byte but these).
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::error_code decode_field(std::string_view in, std::string& out, std::size_t max_size) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (in.size() - i < 3) {
      return UrlError::bad_percent_encoding;
    }
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return UrlError::bad_percent_encoding;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (has_control(out)) {
    return UrlError::forbidden_character;
  }
  if (out.size() > max_size) {
    return UrlError::field_too_long;
  }
  return {};
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace hc::proto::url
