#include "proto/types.hpp"

#include <arpa/inet.h>
#include <string>

namespace hc::proto {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::resolve:
      return "resolve";
    case Stage::connect:
      return "connect";
    case Stage::auth:
      return "auth";
    case Stage::request:
      return "request";
    case Stage::tls:
      return "TLS";
    case Stage::relay:
      return "relay";
    case Stage::accept:
      return "accept";
  }
  return "unknown";
}

namespace {

bool parse_literal(int family, std::string_view host, void* out) {
  if (host.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string s(host);
  return inet_pton(family, s.c_str(), out) == 1;
}

}  // namespace

bool parse_ipv4_literal(std::string_view host, std::array<std::uint8_t, 4>& out) {
  return parse_literal(AF_INET, host, out.data());
}

bool parse_ipv6_literal(std::string_view host, std::array<std::uint8_t, 16>& out) {
  return parse_literal(AF_INET6, host, out.data());
}

bool has_forbidden_name_byte(std::string_view name) {
  return name.find_first_of(std::string_view("\0\r\n ", 4)) != std::string_view::npos;
}

bool is_ipv4_literal(std::string_view host) {
  std::array<std::uint8_t, 4> ignored{};
  return parse_ipv4_literal(host, ignored);
}

bool is_ipv6_literal(std::string_view host) {
  std::array<std::uint8_t, 16> ignored{};
  return parse_ipv6_literal(host, ignored);
}

}  // namespace hc::proto
