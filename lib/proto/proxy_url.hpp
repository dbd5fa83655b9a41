/// Proxy URLs (`socks5h://user:pass@host:1080`) and chain files (one URL per line) into HopSpecs.
///
/// The scheme says how a hop is asked for the next address: socks4 and socks5 get an IP address
/// that hopchain resolves itself; socks4a, socks5h and http get the name. `https` and the `+tls`
/// SOCKS schemes speak the same protocols inside TLS; their per-hop TLS settings are query
/// parameters (`?cafile=PATH&sni=NAME&cert=PATH&key=PATH&insecure=1`), because the hops of one
/// chain may need different CAs. A SOCKS5 hop authenticates with Kerberos through
/// `?auth=gssapi&service=NAME&protection=LEVEL&require=LEVEL` (GssapiOptions). `grants-early=1`, on
/// any scheme, says the hop grants a tunnel before it connects (ss-local): a tunnel through it that
/// ends before its first byte is its failure, and the user's first bytes may be sent again on
/// another chain. Parsing only: no file here is opened or checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/gssapi_context.hpp"
#include "proto/types.hpp"

namespace hc::proto {

enum class Protocol : std::uint8_t { socks4, socks5, http };

/// A TLS hop's settings from its URL query. Empty strings mean "not given".
struct TlsOptions {
  std::string cafile;     ///< CA certificates (PEM); empty: --cafile, else the system store
  std::string sni;        ///< name sent as SNI and verified; empty: the hop's host
  std::string cert;       ///< client certificate chain (PEM); given together with key
  std::string key;        ///< client private key (PEM, unencrypted)
  bool insecure = false;  ///< no certificate or name verification (warned about on every use)
  /// `early-data=1`: on a resumed session that allows it, the hop's handshake goes as TLS 1.3
  /// early data (0-RTT), which a network attacker can replay to the hop
  bool early_data = false;
  friend bool operator==(const TlsOptions&, const TlsOptions&) = default;
};

/// A SOCKS5 hop's GSS-API (RFC 1961) settings from its URL query: `auth=gssapi`, and
/// `service=NAME` (the principal is NAME/HOST, HOST as in the URL), `protection=LEVEL` (asked
/// for) and `require=LEVEL` (the least accepted from the server).
struct GssapiOptions {
  bool enabled = false;
  std::string service = "rcmd";  ///< Dante's default
  Protection protection = Protection::confidentiality;
  Protection require = Protection::none;
  friend bool operator==(const GssapiOptions&, const GssapiOptions&) = default;
};

/// "none", "integrity" or "confidentiality" (protection_name's words), else nullopt.
std::optional<Protection> parse_protection(std::string_view text);

struct HopSpec {
  std::string scheme;  ///< as written, lower-cased: "socks5h"
  Protocol protocol = Protocol::socks5;
  bool remote_dns = true;  ///< the hop gets names; false: hopchain resolves them first
  bool tls = false;        ///< the hop's protocol runs inside TLS (https, socks*+tls)
  TlsOptions tls_options;  ///< only for tls hops
  GssapiOptions gssapi;    ///< only for socks5 hops
  HostPort server;
  std::optional<std::string> user;      ///< percent-decoded
  std::optional<std::string> password;  ///< percent-decoded; never printed
  /// `?grants-early=1`: the hop answers before it connects, so a tunnel that ends before its
  /// first byte counts as its failure and is retried elsewhere with the user's first bytes sent
  /// again (a target that read them and closed gets them twice: the user accepted that).
  bool grants_early = false;

  std::optional<Credentials> credentials() const;
  /// "socks5h://user@host:1080": never the password. Safe for logs and errors.
  std::string redacted() const;
};

/// The port of a service name ("socks", "http-alt"), 0 when unknown. The parsers take one so that
/// they stay free of I/O: the caller passes getservbyname's (app/service_port.hpp).
using ServiceLookup = std::uint16_t (*)(std::string_view name);

/// A port written as a service name, as /etc/services spells them ("http-alt", "z39.50"): a
/// letter first, so that no malformed number ("1e3", "-1") is taken for one.
bool is_service_name(std::string_view text);

/// Parses one URL. Default ports: 1080 for SOCKS (with or without TLS), 8080 for http, 443 for
/// https. A port that is not a number is a service name for `services`; without one it is a
/// bad port.
std::error_code parse_proxy_url(std::string_view url, HopSpec& out,
                                ServiceLookup services = nullptr);

struct ChainFileResult {
  std::vector<HopSpec> hops;
  std::error_code ec;
  std::size_t error_line = 0;  ///< 1-based line of the error
};
/// One URL per line; blank lines and `#` comments (whole-line or trailing) are ignored.
ChainFileResult parse_chain_file(std::string_view text, ServiceLookup services = nullptr);

/// A chain file line without its comment: a `#` at the start of the line or after a space or tab
/// starts one. A URL holds no whitespace, so the rule never cuts one; a `#` inside a URL is kept
/// (and refused by the parser: a password spells it %23).
std::string_view strip_chain_comment(std::string_view line);

}  // namespace hc::proto
