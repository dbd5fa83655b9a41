/// Target rules of the local SOCKS server.
#include "app/access_rules.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <charconv>

namespace hc::app {
namespace {

using Bytes16 = asio::ip::address_v6::bytes_type;

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (!std::equal(a, a + whole, b)) {
    return false;
  }
  const unsigned rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

template <std::size_t N>
void clear_host_bits(std::array<unsigned char, N>& bytes, unsigned prefix) {
  for (std::size_t i = 0; i < N; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (first_bit >= prefix) {
      bytes[i] = 0;
    } else if (prefix - first_bit < 8) {
      bytes[i] &= static_cast<unsigned char>(0xFF << (8 - (prefix - first_bit)));
    }
  }
}

std::optional<std::string> local_kind_v4(const asio::ip::address_v4& a) {
  const auto b = a.to_bytes();
  if (b[0] == 127) {
    return "a loopback address";
  }
  if (b[0] == 0) {
    return "a \"this host\" address";
  }
  if (b[0] == 169 && b[1] == 254) {
    return "a link-local address";
  }
  return std::nullopt;
}

}  // namespace

asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool Cidr::contains(const asio::ip::address& address) const {
  const asio::ip::address a = unmapped(address);
  if (a.is_v4() != network.is_v4()) {
    return false;
  }
  if (a.is_v4()) {
    const auto x = a.to_v4().to_bytes();
    const auto n = network.to_v4().to_bytes();
    return prefix_equal(x.data(), n.data(), prefix);
  }
  const Bytes16 x = a.to_v6().to_bytes();
  const Bytes16 n = network.to_v6().to_bytes();
  return prefix_equal(x.data(), n.data(), prefix);
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

Result<Cidr> parse_cidr(std::string_view text) {
  Cidr out;
  const std::string shown(text);
  std::string_view host = text;
  std::optional<unsigned> prefix;
  if (const auto slash = text.rfind('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return failure("bad address block '" + shown + "': the prefix length must be a number");
    }
    prefix = value;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::error_code ec;
  asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (ec || (address.is_v6() && address.to_v6().scope_id() != 0)) {
    return failure("bad address block '" + shown +
                   "': want ADDRESS[/PREFIX], e.g. 10.0.0.0/8 or fe80::/10");
  }
  unsigned bits = prefix.value_or(address.is_v4() ? 32 : 128);
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    if (bits < 96) {
      return failure("bad address block '" + shown +
                     "': an IPv4-mapped block needs a prefix of 96 or more");
    }
    address = unmapped(address);
    bits -= 96;
  }
  const unsigned max_bits = address.is_v4() ? 32 : 128;
  if (bits > max_bits) {
    return failure("bad address block '" + shown + "': the prefix length is over " +
                   std::to_string(max_bits));
  }
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    clear_host_bits(bytes, bits);
    out.network = asio::ip::address_v4(bytes);
  } else {
    auto bytes = address.to_v6().to_bytes();
    clear_host_bits(bytes, bits);
    out.network = asio::ip::address_v6(bytes);
  }
  out.prefix = bits;
  return out;
}

std::optional<std::string> local_kind(const asio::ip::address& address) {
  const asio::ip::address a = unmapped(address);
  if (a.is_v4()) {
    return local_kind_v4(a.to_v4());
  }
  const Bytes16 b = a.to_v6().to_bytes();
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) {
    return "a link-local address";
  }
  // ::/96 holds ::1, :: and the deprecated IPv4-compatible ::a.b.c.d, which is judged by its
  // IPv4 part (::127.0.0.1 is loopback wherever a stack still honours it).
  if (std::all_of(b.begin(), b.begin() + 12, [](unsigned char c) { return c == 0; })) {
    if (a.to_v6().is_loopback()) {
      return "a loopback address";
    }
    if (a.to_v6().is_unspecified()) {
      return "a \"this host\" address";
    }
    return local_kind_v4(asio::ip::address_v4({b[12], b[13], b[14], b[15]}));
  }
  return std::nullopt;
}

bool is_localhost_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  constexpr std::string_view kName = "localhost";
  if (host.size() < kName.size()) {
    return false;
  }
  const std::string_view tail = host.substr(host.size() - kName.size());
  const bool same = std::equal(tail.begin(), tail.end(), kName.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  return same && (host.size() == kName.size() || host[host.size() - kName.size() - 1] == '.');
}

std::optional<asio::ip::address> literal_address(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(text, ec);
  if (!ec) {
    return address;
  }
  // inet_aton takes the shorthand forms (127.1, 0x7f.1, 2130706433) that getaddrinfo and many
  // resolvers treat as addresses, so they are not names to pass on unchecked.
  in_addr legacy{};
  if (text.find_first_not_of("0123456789abcdefxABCDEFX.") == std::string::npos &&
      ::inet_aton(text.c_str(), &legacy) != 0) {
    return asio::ip::address_v4(ntohl(legacy.s_addr));
  }
  return std::nullopt;
}

AccessDecision AccessPolicy::decide(const asio::ip::address& address) const {
  for (const AccessRule& rule : rules) {
    if (rule.block.contains(address)) {
      return {rule.allow,
              std::string(rule.allow ? "--allow " : "--deny ") + rule.block.to_string()};
    }
  }
  if (refuse_local) {
    if (auto kind = local_kind(address)) {
      return {false, *kind + " of this host (--allow-local allows it)"};
    }
  }
  return {true, "no rule refuses it"};
}

std::optional<AccessDecision> AccessPolicy::decide_host(std::string_view host) const {
  if (auto address = literal_address(host)) {
    return decide(*address);
  }
  if (is_localhost_name(host)) {
    // Whatever the resolver says, these names are loopback: judged as both loopback addresses.
    for (const char* loopback : {"127.0.0.1", "::1"}) {
      AccessDecision d = decide(asio::ip::make_address(loopback));
      if (!d.allowed) {
        return d;
      }
    }
    return AccessDecision{true, "no rule refuses it"};
  }
  return std::nullopt;
}

}  // namespace hc::app
