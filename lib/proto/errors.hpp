/// Error codes of the codecs and parsers, one enum and category per protocol (Beast style).
/// Reply codes sent by a server get their own categories whose values are the wire values, so a
/// message can name both the RFC meaning and the code ("connection refused (SOCKS5 reply 0x05)").
#pragma once

#include <system_error>

namespace hc::proto {

/// Malformed or unexpected SOCKS4/4a replies, and requests that cannot be encoded.
enum class Socks4Error {
  bad_reply_version = 1,  ///< reply VN is not 0
  ipv6_target,            ///< SOCKS4 carries IPv4 only
  name_target,            ///< plain SOCKS4 needs an address; use socks4a:// for names
  name_too_long,          ///< host name over 255 bytes
  invalid_name,           ///< empty name, or NUL/CR/LF/space in it
  userid_too_long,        ///< USERID over 255 bytes
  invalid_userid,         ///< NUL in USERID
};

/// Malformed or unexpected SOCKS5 (RFC 1928) and RFC 1929 exchanges.
enum class Socks5Error {
  bad_version = 1,       ///< VER in a reply is not 5
  no_acceptable_method,  ///< method 0xFF
  method_not_offered,    ///< the server chose a method we did not offer
  auth_bad_version,      ///< RFC 1929 reply VER is not 1
  auth_failed,           ///< RFC 1929 status not 0
  bad_address_type,      ///< ATYP not 1, 3 or 4
  empty_domain,          ///< domain BND.ADDR of length 0
  name_too_long,         ///< target name over 255 bytes
  invalid_name,          ///< empty name, or NUL/CR/LF/space in it
  user_too_long,         ///< RFC 1929 user over 255 bytes
  password_too_long,     ///< RFC 1929 password over 255 bytes
  empty_user,            ///< RFC 1929 user of length 0
  empty_password,        ///< RFC 1929 password of length 0
};

/// HTTP CONNECT exchanges.
enum class HttpConnectError {
  bad_status_line = 1,   ///< status line missing or malformed
  header_too_large,      ///< header block over the limit
  bad_header,            ///< a header line without a colon
  invalid_host,          ///< CR, LF, NUL or space in the CONNECT host
  not_2xx,               ///< non-2xx status; the status line is in the codec's detail()
  credentials_too_long,  ///< user or password over 255 bytes
};

/// Proxy URL and chain file syntax.
enum class UrlError {
  unknown_scheme = 1,
  missing_scheme,
  missing_host,
  bad_port,
  field_too_long,
  forbidden_character,
  bad_percent_encoding,
  bad_ipv6_literal,
  password_not_allowed,         ///< socks4 carries a user id only
  unexpected_path,              ///< anything after host:port but a query on a TLS scheme
  query_without_tls,            ///< query parameters are TLS settings; the scheme has no TLS
  unknown_parameter,            ///< not a parameter hopchain knows
  bad_parameter_value,          ///< empty or malformed
  cert_without_key,             ///< cert= and key= must come together
  unknown_service,              ///< the port is a name the service lookup does not know
  duplicate_parameter,          ///< a parameter given twice
  gssapi_not_socks5,            ///< auth=gssapi on a scheme other than socks5/socks5h (+tls)
  gssapi_with_userinfo,         ///< auth=gssapi and a user or password in the URL
  gssapi_setting_without_auth,  ///< service, protection or require without auth=gssapi
  require_above_protection,     ///< require= is stronger than the protection= asked for
};

const std::error_category& socks4_category();
const std::error_category& socks4_reply_category();  ///< value = CD byte
const std::error_category& socks5_category();
const std::error_category& socks5_reply_category();  ///< value = REP byte
const std::error_category& http_connect_category();
const std::error_category& http_status_category();  ///< value = HTTP status code
const std::error_category& url_category();

std::error_code make_error_code(Socks4Error e);
std::error_code make_error_code(Socks5Error e);
std::error_code make_error_code(HttpConnectError e);
std::error_code make_error_code(UrlError e);

/// CD 0x00 is a failure too, but a zero error_code reads as success: it is stored as 0x100 and
/// the category prints only the low byte.
inline std::error_code socks4_reply(int cd) {
  return {cd == 0 ? 0x100 : cd, socks4_reply_category()};
}
inline std::error_code socks5_reply(int rep) {
  return {rep, socks5_reply_category()};
}
inline std::error_code http_status(int status) {
  return {status, http_status_category()};
}

}  // namespace hc::proto

template <>
struct std::is_error_code_enum<hc::proto::Socks4Error> : std::true_type {};
template <>
struct std::is_error_code_enum<hc::proto::Socks5Error> : std::true_type {};
template <>
struct std::is_error_code_enum<hc::proto::HttpConnectError> : std::true_type {};
template <>
struct std::is_error_code_enum<hc::proto::UrlError> : std::true_type {};
