#include "proto/errors.hpp"

#include <cstdio>
#include <string>

namespace hc::proto {
namespace {

std::string hex_byte(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(v) & 0xFFu);
  return buf;
}

class Socks4Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socks4"; }
  std::string message(int ev) const override {
    switch (static_cast<Socks4Error>(ev)) {
      case Socks4Error::bad_reply_version:
        return "malformed SOCKS4 reply (version byte is not 0)";
      case Socks4Error::ipv6_target:
        return "SOCKS4 cannot carry an IPv6 address";
      case Socks4Error::name_target:
        return "SOCKS4 needs an IPv4 address (use socks4a:// to pass a name)";
      case Socks4Error::name_too_long:
        return "host name longer than 255 bytes";
      case Socks4Error::invalid_name:
        return "host name is empty or contains NUL, CR, LF or space";
      case Socks4Error::userid_too_long:
        return "SOCKS4 user id longer than 255 bytes";
      case Socks4Error::invalid_userid:
        return "SOCKS4 user id contains NUL";
    }
    return "unknown SOCKS4 error";
  }
};

class Socks4ReplyCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socks4 reply"; }
  std::string message(int ev) const override {
    std::string meaning;
    switch (ev) {
      case 0x5A:
        meaning = "request granted";
        break;
      case 0x5B:
        meaning = "request rejected or failed";
        break;
      case 0x5C:
        meaning = "request rejected: server cannot reach the client's identd";
        break;
      case 0x5D:
        meaning = "request rejected: identd reports a different user id";
        break;
      default:
        meaning = "unknown reply code";
        break;
    }
    return meaning + " (SOCKS4 reply " + hex_byte(ev) + ")";
  }
};

class Socks5Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socks5"; }
  std::string message(int ev) const override {
    switch (static_cast<Socks5Error>(ev)) {
      case Socks5Error::bad_version:
        return "malformed SOCKS5 reply (version byte is not 5)";
      case Socks5Error::no_acceptable_method:
        return "no acceptable authentication method (SOCKS5 method 0xFF)";
      case Socks5Error::method_not_offered:
        return "server chose an authentication method that was not offered";
      case Socks5Error::auth_bad_version:
        return "malformed username/password reply (RFC 1929 version byte is not 1)";
      case Socks5Error::auth_failed:
        return "username/password rejected (RFC 1929 status not 0)";
      case Socks5Error::bad_address_type:
        return "malformed SOCKS5 reply (unknown address type)";
      case Socks5Error::empty_domain:
        return "malformed SOCKS5 reply (empty domain name)";
      case Socks5Error::name_too_long:
        return "host name longer than 255 bytes (SOCKS5 limit; not resolving it locally)";
      case Socks5Error::invalid_name:
        return "host name is empty or contains NUL, CR, LF or space";
      case Socks5Error::user_too_long:
        return "user name longer than 255 bytes (RFC 1929 limit)";
      case Socks5Error::password_too_long:
        return "password longer than 255 bytes (RFC 1929 limit)";
      case Socks5Error::empty_user:
        return "empty user name (RFC 1929 needs 1 to 255 bytes)";
      case Socks5Error::empty_password:
        return "empty password (RFC 1929 needs 1 to 255 bytes)";
    }
    return "unknown SOCKS5 error";
  }
};

class Socks5ReplyCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socks5 reply"; }
  std::string message(int ev) const override {
    // RFC 1928 §6
    static const char* const meanings[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    if (ev >= 0 && ev <= 8) {
      return std::string(meanings[ev]) + " (SOCKS5 reply " + hex_byte(ev) + ")";
    }
    return "unassigned reply code " + hex_byte(ev) + " (SOCKS5 reply " + hex_byte(ev) + ")";
  }
};

class HttpConnectCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "http connect"; }
  std::string message(int ev) const override {
    switch (static_cast<HttpConnectError>(ev)) {
      case HttpConnectError::bad_status_line:
        return "malformed HTTP status line";
      case HttpConnectError::header_too_large:
        return "HTTP response header block larger than 16 KiB";
      case HttpConnectError::bad_header:
        return "malformed HTTP header line";
      case HttpConnectError::invalid_host:
        return "CONNECT host is empty or contains a space or control character";
      case HttpConnectError::not_2xx:
        return "proxy refused CONNECT";
      case HttpConnectError::credentials_too_long:
        return "proxy user or password longer than 255 bytes";
    }
    return "unknown HTTP CONNECT error";
  }
};

class HttpStatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "http status"; }
  std::string message(int ev) const override {
    return "proxy refused CONNECT (HTTP status " + std::to_string(ev) + ")";
  }
};

class UrlCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "proxy url"; }
  std::string message(int ev) const override {
    switch (static_cast<UrlError>(ev)) {
      case UrlError::unknown_scheme:
        return "unknown scheme (expected socks4, socks4a, socks5, socks5h, http, https, or a "
               "socks scheme with +tls)";
      case UrlError::missing_scheme:
        return "missing scheme (write e.g. socks5h://host:1080)";
      case UrlError::missing_host:
        return "missing host";
      case UrlError::bad_port:
        return "bad port (expected 1 to 65535)";
      case UrlError::field_too_long:
        return "field longer than 255 bytes";
      case UrlError::forbidden_character:
        return "forbidden character (CR, LF, NUL, space or control character)";
      case UrlError::bad_percent_encoding:
        return "bad percent-encoding";
      case UrlError::bad_ipv6_literal:
        return "bad IPv6 literal";
      case UrlError::password_not_allowed:
        return "socks4 carries a user id only, not a password";
      case UrlError::unexpected_path:
        return "unexpected text after host:port";
      case UrlError::query_without_tls:
        return "cafile, sni, cert, key, insecure and early-data are TLS settings; use https:// or "
               "a +tls scheme";
      case UrlError::unknown_parameter:
        return "unknown query parameter (expected cafile, sni, cert, key, insecure, early-data, "
               "grants-early, auth, service, protection or require)";
      case UrlError::bad_parameter_value:
        return "bad query parameter value (empty or malformed)";
      case UrlError::duplicate_parameter:
        return "query parameter given twice";
      case UrlError::gssapi_not_socks5:
        return "auth=gssapi is for socks5 and socks5h hops (and their +tls forms)";
      case UrlError::gssapi_with_userinfo:
        return "auth=gssapi takes no user or password (the Kerberos ticket is the credential)";
      case UrlError::gssapi_setting_without_auth:
        return "service, protection and require are GSS-API settings: add auth=gssapi";
      case UrlError::require_above_protection:
        return "require= is stronger than the protection= asked for";
      case UrlError::cert_without_key:
        return "cert= and key= must be given together";
      case UrlError::unknown_service:
        return "unknown service name as the port (not in /etc/services)";
    }
    return "unknown URL error";
  }
};

}  // namespace

const std::error_category& socks4_category() {
  static const Socks4Category c;
  return c;
}
const std::error_category& socks4_reply_category() {
  static const Socks4ReplyCategory c;
  return c;
}
const std::error_category& socks5_category() {
  static const Socks5Category c;
  return c;
}
const std::error_category& socks5_reply_category() {
  static const Socks5ReplyCategory c;
  return c;
}
const std::error_category& http_connect_category() {
  static const HttpConnectCategory c;
  return c;
}
const std::error_category& http_status_category() {
  static const HttpStatusCategory c;
  return c;
}
const std::error_category& url_category() {
  static const UrlCategory c;
  return c;
}

std::error_code make_error_code(Socks4Error e) {
  return {static_cast<int>(e), socks4_category()};
}
std::error_code make_error_code(Socks5Error e) {
  return {static_cast<int>(e), socks5_category()};
}
std::error_code make_error_code(HttpConnectError e) {
  return {static_cast<int>(e), http_connect_category()};
}
std::error_code make_error_code(UrlError e) {
  return {static_cast<int>(e), url_category()};
}

}  // namespace hc::proto
