/// Plain values shared by every codec and by the chain engine: an endpoint, a credential pair and
/// the stage of a hop a failure belongs to.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace hc::proto {

/// A host (IPv4 literal, IPv6 literal without brackets, or a DNS name) and a port.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", with IPv6 literals in brackets.
  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

struct Credentials {
  std::string user;
  std::string password;
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

/// Where in a hop's life a failure happened; printed in error messages. `accept`: a BIND hop's
/// wait for, and report of, the incoming connection (its second reply).
enum class Stage : std::uint8_t { resolve, connect, auth, request, tls, relay, accept };
std::string_view to_string(Stage stage);

/// The octets of an IPv4 or IPv6 literal (no brackets, no zone), or false for anything else. A
/// host with a NUL byte is never a literal: inet_pton would stop there and accept "1.2.3.4\0evil",
/// silently truncated; as a name it reaches the codecs' name checks and is refused.
bool parse_ipv4_literal(std::string_view host, std::array<std::uint8_t, 4>& out);
bool parse_ipv6_literal(std::string_view host, std::array<std::uint8_t, 16>& out);
/// A name that cannot go on the wire: NUL ends it (SOCKS4a) or it would corrupt a request.
bool has_forbidden_name_byte(std::string_view name);

/// True for a dotted-quad IPv4 literal.
bool is_ipv4_literal(std::string_view host);
/// True for an IPv6 literal (no brackets, no zone).
bool is_ipv6_literal(std::string_view host);

}  // namespace hc::proto
