/// SOCKS5 UDP request headers (RFC 1928 §7), nested once per hop of a chain.
///
/// A datagram for a chain of n SOCKS5 hops goes to hop 1's relay as
/// H(R_2)·…·H(R_n)·H(target)·payload: each hop strips the outermost header and sends the rest to
/// the address it names. Replies come back wrapped the same way, one header per hop, each naming
/// where that hop received the inner datagram from. Pure functions over bytes: no I/O, no
/// resolver, nothing thrown; a datagram that fails a check is dropped (with the reason), never
/// repaired.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/types.hpp"

namespace hc::proto::socks5 {

/// RSV RSV FRAG ATYP and a one-byte name length: the fewest bytes that say a header's length.
inline constexpr std::size_t kUdpHeaderHead = 5;
/// The shortest header: a one-byte domain name (RSV RSV FRAG ATYP LEN NAME(1) PORT(2)), two
/// bytes shorter than IPv4's.
inline constexpr std::size_t kUdpHeaderMin = 8;

/// Appends RSV(0) RSV(0) FRAG(0) ATYP ADDR PORT. Names are checked as in a request (1..255 bytes,
/// no NUL/CR/LF/space); nothing is appended on error.
std::error_code encode_udp_header(const HostPort& address, std::vector<std::uint8_t>& out);

/// Bytes that encode_udp_header appends for each of `addresses`, added up; nullopt if one of
/// them cannot be encoded.
std::optional<std::size_t> udp_headers_size(std::span<const HostPort> addresses);

/// `out` = H(addresses[0])·H(addresses[1])·…·payload (addresses[0] outermost). `out` is
/// replaced, and left empty on error.
std::error_code wrap_udp(std::span<const HostPort> addresses, std::span<const std::uint8_t> payload,
                         std::vector<std::uint8_t>& out);

/// Why a received datagram was dropped.
enum class UdpDrop : std::uint8_t {
  none = 0,
  short_header,        ///< fewer bytes than the header's own length fields call for
  fragmented,          ///< FRAG != 0: RFC 1928 §7 lets a client without reassembly drop it
  bad_address_type,    ///< ATYP not 1, 3 or 4
  empty_domain,        ///< ATYP 3 with a name length of 0
  unexpected_address,  ///< a header names another relay or origin than the one we talk to
};
std::string_view to_string(UdpDrop drop);

struct UdpHeader {
  UdpDrop drop = UdpDrop::none;
  std::size_t size = 0;  ///< header bytes, when not dropped
  HostPort address;
};
/// Decodes the header at the start of `datagram`.
UdpHeader decode_udp_header(std::span<const std::uint8_t> datagram);

/// True when a reply header naming `got` matches what we sent to, `expected`. IP literals must be
/// the same address (an IPv4-mapped IPv6 address equals its IPv4 form) and port. A name we sent
/// comes back as whatever address the hop resolved it to, which we cannot know: then only the
/// port must match (and a name in `got`, if any, must be the same name, ignoring case).
bool udp_address_matches(const HostPort& expected, const HostPort& got);

struct UdpUnwrapped {
  UdpDrop drop = UdpDrop::none;
  std::size_t layer = 0;  ///< when dropped: 0-based index of the header at fault
  HostPort origin;        ///< the innermost header's address: where the payload came from
  std::span<const std::uint8_t> payload;  ///< a view into the datagram
};
/// Strips relays.size() + 1 headers from a reply: one per entry of `relays` (each must match it,
/// outermost first), then the origin's, which must match `*origin` when that is given.
UdpUnwrapped unwrap_udp(std::span<const std::uint8_t> datagram, std::span<const HostPort> relays,
                        const HostPort* origin);

}  // namespace hc::proto::socks5
