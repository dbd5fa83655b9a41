#include "proto/proxy_url_query.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "proto/errors.hpp"
#include "proto/url_fields.hpp"

namespace hc::proto {
namespace {

using url::decode_field;
using url::is_host_char;
using url::kFieldMax;
using url::kPathMax;

constexpr std::array<std::string_view, 11> kParameters{
    "cafile",       "sni",  "cert",    "key",        "insecure", "early-data",
    "grants-early", "auth", "service", "protection", "require"};

bool is_tls_parameter(std::string_view name) {
  return name == "cafile" || name == "sni" || name == "cert" || name == "key" ||
         name == "insecure" || name == "early-data";
}

bool is_gssapi_setting(std::string_view name) {
  return name == "service" || name == "protection" || name == "require";
}

std::error_code apply_tls(std::string_view name, std::string value, TlsOptions& options) {
  if (name == "cafile") {
    options.cafile = std::move(value);
  } else if (name == "sni") {
    if (value.size() > kFieldMax ||
        !(std::all_of(value.begin(), value.end(), is_host_char) || is_ipv6_literal(value))) {
      return UrlError::bad_parameter_value;
    }
    options.sni = std::move(value);
  } else if (name == "cert") {
    options.cert = std::move(value);
  } else if (name == "key") {
    options.key = std::move(value);
  } else if (value != "1" && value != "0") {
    return UrlError::bad_parameter_value;
  } else if (name == "early-data") {
    options.early_data = value == "1";
  } else {
    options.insecure = value == "1";
  }
  return {};
}

/// `auth=gssapi`, `service=NAME` (a Kerberos name component: no '/' or '@'),
/// `protection=integrity|confidentiality` and `require=none|integrity|confidentiality`.
std::error_code apply_gssapi(std::string_view name, const std::string& value,
                             GssapiOptions& options) {
  if (name == "auth") {
    if (value != "gssapi") {
      return UrlError::bad_parameter_value;
    }
    options.enabled = true;
  } else if (name == "service") {
    if (value.size() > kFieldMax || !std::all_of(value.begin(), value.end(), is_host_char)) {
      return UrlError::bad_parameter_value;
    }
    options.service = value;
  } else {
    const auto level = parse_protection(value);
    // RFC 1961 asks for a level of protection: "none" is only what a server may answer.
    if (!level || (name == "protection" && *level == Protection::none)) {
      return UrlError::bad_parameter_value;
    }
    (name == "protection" ? options.protection : options.require) = *level;
  }
  return {};
}

/// What holds only once every parameter is known: a TLS client key with its certificate, and
/// GSS-API settings on a SOCKS5 hop that authenticates with nothing else.
std::error_code check_query(const HopSpec& hop, bool gssapi_settings) {
  if (hop.tls_options.cert.empty() != hop.tls_options.key.empty()) {
    return UrlError::cert_without_key;
  }
  if (!hop.gssapi.enabled) {
    return gssapi_settings ? make_error_code(UrlError::gssapi_setting_without_auth)
                           : std::error_code{};
  }
  if (hop.protocol != Protocol::socks5) {
    return UrlError::gssapi_not_socks5;
  }
  if (hop.user || hop.password) {
    return UrlError::gssapi_with_userinfo;
  }
  if (hop.gssapi.require > hop.gssapi.protection) {
    return UrlError::require_above_protection;
  }
  return {};
}

}  // namespace

/// `cafile=PATH&sni=NAME&cert=PATH&key=PATH&insecure=1&early-data=1` (TLS schemes only), the
/// GSS-API settings (SOCKS5 only) and `grants-early=0|1` (any scheme), values percent-decoded.
/// Empty items ("a=1&&b=2", a trailing '&') are skipped; anything else unexpected is an error, so a
/// typo cannot silently leave verification or protection at a default.
std::error_code parse_query(std::string_view query, HopSpec& hop) {
  std::array<bool, kParameters.size()> seen{};
  bool gssapi_settings = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    const std::size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    const auto known = std::find(kParameters.begin(), kParameters.end(), name);
    if (known == kParameters.end()) {
      return UrlError::unknown_parameter;
    }
    if (is_tls_parameter(name) && !hop.tls) {
      return UrlError::query_without_tls;
    }
    const auto index = static_cast<std::size_t>(known - kParameters.begin());
    if (seen[index]) {
      return UrlError::duplicate_parameter;
    }
    seen[index] = true;
    std::string value;
    if (eq == std::string_view::npos) {
      return UrlError::bad_parameter_value;
    }
    if (const auto ec = decode_field(item.substr(eq + 1), value, kPathMax)) {
      return ec;
    }
    if (value.empty()) {
      return UrlError::bad_parameter_value;
    }
    gssapi_settings = gssapi_settings || is_gssapi_setting(name);
    std::error_code ec;
    if (is_tls_parameter(name)) {
      ec = apply_tls(name, std::move(value), hop.tls_options);
    } else if (name != "grants-early") {
      ec = apply_gssapi(name, value, hop.gssapi);
    } else if (value == "1" || value == "0") {
      hop.grants_early = value == "1";
    } else {
      ec = UrlError::bad_parameter_value;
    }
    if (ec) {
      return ec;
    }
  }
  return check_query(hop, gssapi_settings);
}

}  // namespace hc::proto
