#include "proto/socks5_address.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "proto/errors.hpp"

namespace hc::proto::socks5 {
namespace {

void append_port(std::uint16_t port, std::vector<std::uint8_t>& out) {
  // RFC 1928 §4: DST.PORT in network octet order.
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port & 0xFF));
}

std::uint16_t read_port(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

std::error_code encode_address(const HostPort& target, std::vector<std::uint8_t>& out) {
  std::array<std::uint8_t, 4> v4{};
  std::array<std::uint8_t, 16> v6{};
  // RFC 1928 §5: ATYP 1 = IPv4 (4 octets), 4 = IPv6 (16 octets), 3 = length-prefixed name.
  if (parse_ipv4_literal(target.host, v4)) {
    out.push_back(kAtypIpv4);
    out.insert(out.end(), v4.begin(), v4.end());
  } else if (parse_ipv6_literal(target.host, v6)) {
    out.push_back(kAtypIpv6);
    out.insert(out.end(), v6.begin(), v6.end());
  } else {
    const std::string& name = target.host;
    if (name.empty() || has_forbidden_name_byte(name)) {
      return Socks5Error::invalid_name;
    }
    // The length is a single octet; a longer name cannot be sent, and resolving it locally
    // instead would leak the lookup, so it is an error.
    if (name.size() > 255) {
      return Socks5Error::name_too_long;
    }
    out.push_back(kAtypDomain);
    out.push_back(static_cast<std::uint8_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
  }
  append_port(target.port, out);
  return {};
}

DecodedAddress decode_address(std::span<const std::uint8_t> in) {
  DecodedAddress r;
  if (in.empty()) {
    r.needed = 1;
    return r;
  }
  const std::uint8_t atyp = in[0];
  switch (atyp) {
    case kAtypIpv4:
    case kAtypIpv6: {
      const std::size_t len = atyp == kAtypIpv4 ? 4 : 16;
      const std::size_t total = 1 + len + 2;
      if (in.size() < total) {
        r.needed = total;
        return r;
      }
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(atyp == kAtypIpv4 ? AF_INET : AF_INET6, in.data() + 1, text, sizeof text);
      r.address.host = text;
      r.address.port = read_port(in.data() + 1 + len);
      r.consumed = total;
      r.needed = total;
      return r;
    }
    case kAtypDomain: {
      if (in.size() < 2) {
        r.needed = 2;
        return r;
      }
      const std::size_t len = in[1];
      if (len == 0) {
        r.ec = Socks5Error::empty_domain;
        return r;
      }
      const std::size_t total = 2 + len + 2;
      if (in.size() < total) {
        r.needed = total;
        return r;
      }
      // Kept byte for byte; callers that print it must sanitise it themselves.
      r.address.host.assign(reinterpret_cast<const char*>(in.data() + 2), len);
      r.address.port = read_port(in.data() + 2 + len);
      r.consumed = total;
      r.needed = total;
      return r;
    }
    default:
      r.ec = Socks5Error::bad_address_type;
      return r;
  }
}

}  // namespace hc::proto::socks5
