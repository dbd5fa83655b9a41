/// Which targets the local SOCKS server connects to: `socks --allow CIDR`, `--deny CIDR` and the
/// default that refuses the host's own loopback and link-local addresses when the server listens
/// beyond loopback (unless `--allow-local`). Pure: no sockets, no resolution.
///
/// Order: the rules in command-line order, the first that matches decides; when none matches, the
/// default decides (refuse a local address if `refuse_local`, else allow). Rules match addresses
/// only: a name is matched once hopchain has resolved it (a server with no hop resolves every
/// name before connecting); a name that a hop resolves is unknown here and passes, except
/// `localhost` and names under `.localhost`, which are local by definition (RFC 6761).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// An address block, `10.0.0.0/8`, `fe80::/10`, or one address. IPv4-mapped IPv6 blocks are kept
/// in their IPv4 form, so one rule covers both spellings.
struct Cidr {
  asio::ip::address network;  ///< host bits cleared
  unsigned prefix = 0;

  bool contains(const asio::ip::address& address) const;
  std::string to_string() const;
};

/// `ADDRESS[/PREFIX]`; IPv6 in brackets or bare.
Result<Cidr> parse_cidr(std::string_view text);

/// `::ffff:a.b.c.d` as `a.b.c.d`; any other address unchanged.
asio::ip::address unmapped(const asio::ip::address& address);

/// Why `address` reaches this host's own services, or nullopt: loopback (127.0.0.0/8, ::1),
/// "this host" (0.0.0.0/8, ::, which Linux connects to loopback) and link-local
/// (169.254.0.0/16, fe80::/10), also when written IPv4-mapped or IPv4-compatible.
std::optional<std::string> local_kind(const asio::ip::address& address);

/// `localhost`, `localhost.` and any name under `.localhost`, in any case.
bool is_localhost_name(std::string_view host);

/// The address a target host denotes without a lookup: an IP literal, or the legacy IPv4 forms
/// (`127.1`, `0x7f000001`, `2130706433`) that resolvers accept as addresses.
std::optional<asio::ip::address> literal_address(std::string_view host);

struct AccessRule {
  bool allow = false;
  Cidr block;
};

struct AccessDecision {
  bool allowed = true;
  std::string reason;  ///< why, for the log: "--deny 10.0.0.0/8", "a loopback address", ...
};

struct AccessPolicy {
  std::vector<AccessRule> rules;  ///< command-line order
  bool refuse_local = false;      ///< the default for local addresses (exposed server)

  /// True when some target can be refused: checks are skipped otherwise.
  bool active() const { return refuse_local || !rules.empty(); }

  AccessDecision decide(const asio::ip::address& address) const;
  /// A target as the client sent it: an address (literal_address) is decided; `localhost` and
  /// names under it are decided as 127.0.0.1 and ::1 (refused if either is); any other name is
  /// nullopt, undecided until resolved.
  std::optional<AccessDecision> decide_host(std::string_view host) const;
};

}  // namespace hc::app
