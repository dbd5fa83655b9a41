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

// inet_pton stops at a NUL; "1.2.3.4\0evil" must not pass for an address.
bool is_ipv4_literal(std::string_view host) {
  if (host.find('\0') != std::string_view::npos) {
    return false;
  }
  unsigned char buf[4];
  const std::string s(host);
  return inet_pton(AF_INET, s.c_str(), buf) == 1;
}

bool is_ipv6_literal(std::string_view host) {
  if (host.find('\0') != std::string_view::npos) {
    return false;
  }
  unsigned char buf[16];
  const std::string s(host);
  return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace hc::proto
