/// The capture namespace's netfilter rules, as nftables ruleset text applied through libnftables
/// (never by running `nft`). The text is built by a pure function, so it is unit-tested as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace hc::capture {

/// Every TCP connection that leaves the namespace for a non-loopback address (IPv4 and IPv6) is
/// redirected to the local capture ports; the namespace's own loopback stays local. The hook is
/// nat output, so only the namespace's own processes are affected. `extra` (rules of other
/// captures, such as UDP tproxy) is appended as it is.
std::string capture_ruleset(std::uint16_t v4_port, std::uint16_t v6_port,
                            std::string_view extra = {});

/// Every UDP datagram that leaves the namespace for an address other than loopback and the
/// namespace's own (`own_v4`, `own_v6`: replies to the program go there) is marked `mark` at
/// output, so that the ip rules send it back in through lo (add_fwmark_rule,
/// add_local_default_route), where, the mark still on it, `tproxy` hands it unchanged to the
/// socket bound to `port` on the wildcard address, its destination kept for IP_RECVORIGDSTADDR.
/// Added to capture_ruleset's table.
std::string udp_capture_rules(std::uint16_t port, std::uint32_t mark, std::string_view own_v4,
                              std::string_view own_v6);

/// Applies `ruleset` in the calling process's network namespace. The error is libnftables'
/// message, and when the kernel has no nf_tables (or no nat/redirect), what to do about it.
Result<void> apply_ruleset(const std::string& ruleset);

/// What an nftables error from the kernel means for the user, given libnftables' message.
std::string explain_nft_error(std::string_view message);

}  // namespace hc::capture
