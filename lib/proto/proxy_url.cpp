#include "proto/proxy_url.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>

#include "base/lines.hpp"
#include "proto/errors.hpp"
#include "proto/proxy_url_query.hpp"
#include "proto/url_fields.hpp"

namespace hc::proto {
namespace {

using url::decode_field;
using url::is_host_char;
using url::kFieldMax;

struct SchemeInfo {
  std::string_view name;
  Protocol protocol;
  bool remote_dns;
  std::uint16_t default_port;
  bool tls;
};

constexpr std::array<SchemeInfo, 10> kSchemes{{
    {"socks4", Protocol::socks4, false, 1080, false},
    {"socks4a", Protocol::socks4, true, 1080, false},
    {"socks5", Protocol::socks5, false, 1080, false},
    {"socks5h", Protocol::socks5, true, 1080, false},
    {"http", Protocol::http, true, 8080, false},
    // SOCKS behind a TLS terminator keeps the SOCKS port; an HTTPS proxy is usually on 443.
    {"socks4+tls", Protocol::socks4, false, 1080, true},
    {"socks4a+tls", Protocol::socks4, true, 1080, true},
    {"socks5+tls", Protocol::socks5, false, 1080, true},
    {"socks5h+tls", Protocol::socks5, true, 1080, true},
    {"https", Protocol::http, true, 443, true},
}};

/// Space counts too: it is never valid in a URL and a sign of a pasted or split argument.
bool is_forbidden(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c <= 0x20 || c == 0x7F;
}

bool has_forbidden(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_forbidden);
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::error_code parse_port(std::string_view text, ServiceLookup services, std::uint16_t& port) {
  if (services != nullptr && is_service_name(text)) {
    port = services(text);
    return port == 0 ? make_error_code(UrlError::unknown_service) : std::error_code{};
  }
  if (text.empty()) {
    return UrlError::bad_port;
  }
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return UrlError::bad_port;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) {
      return UrlError::bad_port;
    }
  }
  if (value == 0) {
    return UrlError::bad_port;
  }
  port = static_cast<std::uint16_t>(value);
  return {};
}

/// host[:port], or [v6][:port]. The host is stored without brackets.
std::error_code parse_host_port(std::string_view text, std::uint16_t default_port,
                                ServiceLookup services, HostPort& out) {
  std::string_view host;
  std::string_view rest;  // ":port" or empty
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return UrlError::bad_ipv6_literal;
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (host.size() > kFieldMax) {
      return UrlError::field_too_long;
    }
    if (!is_ipv6_literal(host)) {
      return UrlError::bad_ipv6_literal;
    }
    if (!rest.empty() && rest.front() != ':') {
      return UrlError::unexpected_path;
    }
  } else {
    const std::size_t colon = text.find(':');
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    // An unbracketed IPv6 literal: say so instead of reporting a bad port.
    if (rest.find(':', 1) != std::string_view::npos) {
      return UrlError::bad_ipv6_literal;
    }
    if (host.empty()) {
      return UrlError::missing_host;
    }
    if (host.size() > kFieldMax) {
      return UrlError::field_too_long;
    }
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return UrlError::forbidden_character;
    }
  }

  std::uint16_t port = default_port;
  if (!rest.empty()) {
    if (const auto ec = parse_port(rest.substr(1), services, port)) {
      return ec;
    }
  }
  out.host = std::string(host);
  out.port = port;
  return {};
}

std::string escape_controls(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || c == '\\') {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  const std::size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::optional<Protection> parse_protection(std::string_view text) {
  for (const Protection level :
       {Protection::none, Protection::integrity, Protection::confidentiality}) {
    if (text == protection_name(level)) {
      return level;
    }
  }
  return std::nullopt;
}

bool is_service_name(std::string_view text) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto ok = [](char c) { return is_host_char(c) || c == '+'; };
  return !text.empty() && text.size() <= 64 && letter(text[0]) &&
         std::all_of(text.begin(), text.end(), ok);
}

std::optional<Credentials> HopSpec::credentials() const {
  if (!user) {
    return std::nullopt;
  }
  // A missing password travels as an empty one; SOCKS4 needs none and RFC 1929 refuses it.
  return Credentials{*user, password.value_or(std::string{})};
}

std::string HopSpec::redacted() const {
  std::string out = scheme + "://";
  if (user) {
    out += escape_controls(*user);
    out += '@';
  }
  out += escape_controls(server.to_string());
  return out;
}

std::error_code parse_proxy_url(std::string_view url, HopSpec& out, ServiceLookup services) {
  if (has_forbidden(url)) {
    return UrlError::forbidden_character;
  }
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return UrlError::missing_scheme;
  }

  HopSpec hop;
  hop.scheme.resize(sep);
  std::transform(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(sep), hop.scheme.begin(),
                 to_lower);
  const auto scheme = std::find_if(kSchemes.begin(), kSchemes.end(),
                                   [&](const SchemeInfo& s) { return s.name == hop.scheme; });
  if (scheme == kSchemes.end()) {
    return UrlError::unknown_scheme;
  }
  hop.protocol = scheme->protocol;
  hop.remote_dns = scheme->remote_dns;
  hop.tls = scheme->tls;

  // The authority ends at the first '/', '?' or '#', as in RFC 3986. Only a lone '/' and a query
  // may follow.
  std::string_view rest = url.substr(sep + 3);
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (!tail.empty() && tail.front() == '/') {
    tail.remove_prefix(1);
  }
  std::optional<std::string_view> query;
  if (!tail.empty() && tail.front() == '?') {
    query = tail.substr(1);
    tail = {};
  }
  if (!tail.empty() || (query && query->find('#') != std::string_view::npos)) {
    return UrlError::unexpected_path;
  }

  // The last '@' splits, as curl does, so a stray '@' in a password lands in the userinfo.
  const std::size_t at = authority.rfind('@');
  std::string_view userinfo;
  if (at != std::string_view::npos) {
    userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  // "@host" names no user at all; ":pass@host" names an empty one (which the codec refuses).
  if (!userinfo.empty()) {
    const std::size_t colon = userinfo.find(':');
    std::string user;
    if (const auto ec = decode_field(userinfo.substr(0, colon), user)) {
      return ec;
    }
    if (colon != std::string_view::npos) {
      if (hop.protocol == Protocol::socks4) {
        return UrlError::password_not_allowed;
      }
      std::string password;
      if (const auto ec = decode_field(userinfo.substr(colon + 1), password)) {
        return ec;
      }
      hop.password = std::move(password);
    }
    hop.user = std::move(user);
  }

  if (const auto ec = parse_host_port(authority, scheme->default_port, services, hop.server)) {
    return ec;
  }
  if (query) {
    if (const auto ec = parse_query(*query, hop)) {
      return ec;
    }
  }
  out = std::move(hop);
  return {};
}

std::string_view strip_chain_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

ChainFileResult parse_chain_file(std::string_view text, ServiceLookup services) {
  ChainFileResult result;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::string_view line = take_line(text);

    line = trim(strip_chain_comment(line));
    if (line.empty()) {
      continue;
    }
    HopSpec hop;
    if (const auto ec = parse_proxy_url(line, hop, services)) {
      // No partial chain: a caller that forgets to check ec must not connect through fewer hops.
      result.hops.clear();
      result.ec = ec;
      result.error_line = line_no;
      return result;
    }
    result.hops.push_back(std::move(hop));
  }
  return result;
}

}  // namespace hc::proto
