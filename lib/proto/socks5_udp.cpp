#include "proto/socks5_udp.hpp"

#include <array>
#include <cstring>
#include <string>

#include "proto/errors.hpp"
#include "proto/socks5_address.hpp"

namespace hc::proto::socks5 {
namespace {

// RFC 1928 §7: RSV(2) FRAG(1), then ATYP DST.ADDR DST.PORT as in a request.
constexpr std::size_t kRsvFragSize = 3;
constexpr std::size_t kFragOffset = 2;

/// An IP literal as 16 bytes, IPv4 in its IPv4-mapped IPv6 form, so both spellings compare equal.
std::optional<std::array<std::uint8_t, 16>> ip_bytes(const std::string& host) {
  std::array<std::uint8_t, 16> out{};
  std::array<std::uint8_t, 4> v4{};
  if (parse_ipv4_literal(host, v4)) {
    out[10] = 0xFF;
    out[11] = 0xFF;
    std::memcpy(out.data() + 12, v4.data(), v4.size());
    return out;
  }
  if (parse_ipv6_literal(host, out)) {
    return out;
  }
  return std::nullopt;
}

bool same_name(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    const auto lx = x >= 'A' && x <= 'Z' ? x + 32 : x;
    const auto ly = y >= 'A' && y <= 'Z' ? y + 32 : y;
    if (lx != ly) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::error_code encode_udp_header(const HostPort& address, std::vector<std::uint8_t>& out) {
  std::vector<std::uint8_t> header{0x00, 0x00, 0x00};  // RSV RSV FRAG: we never fragment
  if (auto ec = encode_address(address, header)) {
    return ec;
  }
  out.insert(out.end(), header.begin(), header.end());
  return {};
}

std::optional<std::size_t> udp_headers_size(std::span<const HostPort> addresses) {
  std::size_t total = 0;
  std::vector<std::uint8_t> scratch;
  for (const auto& a : addresses) {
    scratch.clear();
    if (encode_udp_header(a, scratch)) {
      return std::nullopt;
    }
    total += scratch.size();
  }
  return total;
}

std::error_code wrap_udp(std::span<const HostPort> addresses, std::span<const std::uint8_t> payload,
                         std::vector<std::uint8_t>& out) {
  out.clear();
  for (const auto& a : addresses) {
    if (auto ec = encode_udp_header(a, out)) {
      out.clear();
      return ec;
    }
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return {};
}

std::string_view to_string(UdpDrop drop) {
  switch (drop) {
    case UdpDrop::none:
      return "accepted";
    case UdpDrop::short_header:
      return "header shorter than its length fields";
    case UdpDrop::fragmented:
      return "fragment (FRAG != 0), not reassembled";
    case UdpDrop::bad_address_type:
      return "unknown address type";
    case UdpDrop::empty_domain:
      return "empty domain name";
    case UdpDrop::unexpected_address:
      return "header names an unexpected address";
  }
  return "unknown";
}

UdpHeader decode_udp_header(std::span<const std::uint8_t> datagram) {
  UdpHeader h;
  if (datagram.size() < kRsvFragSize) {
    h.drop = UdpDrop::short_header;
    return h;
  }
  // RSV is ignored, as in TCP replies: it carries nothing. FRAG is not: a fragment is only part
  // of a datagram, and passing it on as a whole one would corrupt the payload.
  if (datagram[kFragOffset] != 0) {
    h.drop = UdpDrop::fragmented;
    return h;
  }
  const auto decoded = decode_address(datagram.subspan(kRsvFragSize));
  if (decoded.ec == Socks5Error::bad_address_type) {
    h.drop = UdpDrop::bad_address_type;
  } else if (decoded.ec == Socks5Error::empty_domain) {
    h.drop = UdpDrop::empty_domain;
  } else if (decoded.ec || decoded.consumed == 0) {
    h.drop = UdpDrop::short_header;
  } else {
    h.size = kRsvFragSize + decoded.consumed;
    h.address = decoded.address;
  }
  return h;
}

bool udp_address_matches(const HostPort& expected, const HostPort& got) {
  if (expected.port != got.port) {
    return false;
  }
  const auto want = ip_bytes(expected.host);
  const auto have = ip_bytes(got.host);
  if (want) {
    return have && *want == *have;
  }
  return have || same_name(expected.host, got.host);
}

UdpUnwrapped unwrap_udp(std::span<const std::uint8_t> datagram, std::span<const HostPort> relays,
                        const HostPort* origin) {
  UdpUnwrapped r;
  std::span<const std::uint8_t> rest = datagram;
  for (std::size_t layer = 0; layer <= relays.size(); ++layer) {
    const UdpHeader h = decode_udp_header(rest);
    r.layer = layer;
    if (h.drop != UdpDrop::none) {
      r.drop = h.drop;
      return r;
    }
    const HostPort* expected = layer < relays.size() ? &relays[layer] : origin;
    if (expected != nullptr && !udp_address_matches(*expected, h.address)) {
      r.drop = UdpDrop::unexpected_address;
      return r;
    }
    rest = rest.subspan(h.size);
    if (layer == relays.size()) {
      r.origin = h.address;
    }
  }
  r.layer = 0;
  r.payload = rest;
  return r;
}

}  // namespace hc::proto::socks5
