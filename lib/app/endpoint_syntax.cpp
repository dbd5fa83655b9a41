#include "app/endpoint_syntax.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <vector>

#include "app/service_port.hpp"

namespace hc::app {
namespace {

/// Why `host` cannot be passed to a hop, or nullptr. 255 is SOCKS5's one-byte length limit; a
/// longer name is refused outright, never resolved locally instead.
const char* host_error(std::string_view host) {
  if (host.empty()) {
    return "empty host name";
  }
  if (host.size() > 255) {
    return "host name longer than 255 bytes";
  }
  for (unsigned char c : host) {
    if (c <= 0x20 || c == 0x7F) {
      return "host name contains a space or control character";
    }
  }
  return nullptr;
}

/// Splits at ':' outside brackets; brackets are removed from a field that is one bracketed IPv6.
bool split_fields(std::string_view text, std::vector<std::string>& fields) {
  std::string current;
  bool in_brackets = false;
  bool bracketed = false;
  for (char c : text) {
    if (c == '[' && !in_brackets && current.empty()) {
      in_brackets = true;
      bracketed = true;
    } else if (c == ']' && in_brackets) {
      in_brackets = false;
    } else if (c == ':' && !in_brackets) {
      fields.push_back(current);
      current.clear();
      bracketed = false;
    } else {
      if (bracketed && !in_brackets) {
        return false;  // text after "]" in the same field
      }
      current.push_back(c);
    }
  }
  fields.push_back(current);
  return !in_brackets;
}

/// BIND: an IP literal, `localhost` (127.0.0.1), or `*` (every address, host "").
bool parse_bind(const std::string& bind, std::string& host) {
  if (bind == "*") {
    host.clear();
  } else if (proto::is_ipv4_literal(bind) || proto::is_ipv6_literal(bind)) {
    host = bind;
  } else if (bind == "localhost") {
    host = "127.0.0.1";
  } else {
    return false;
  }
  return true;
}

}  // namespace

Result<proto::HostPort> parse_host_port(std::string_view host, std::string_view port,
                                        proto::ServiceLookup services) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!proto::is_ipv6_literal(host)) {
      return failure("bad IPv6 address in brackets");
    }
  }
  if (const char* error = host_error(host)) {
    return failure(error);
  }
  const auto number = parse_port(port, services);
  if (!number) {
    return failure(number.error());
  }
  return proto::HostPort{std::string(host), *number};
}

Result<ForwardSpec> parse_forward_spec(std::string_view text, proto::ServiceLookup services) {
  std::vector<std::string> fields;
  if (!split_fields(text, fields) || (fields.size() != 3 && fields.size() != 4)) {
    return failure("bad forward spec '" + std::string(text) +
                   "' (expected [BIND:]LPORT:HOST:PORT)");
  }
  std::size_t i = 0;
  ForwardSpec out;
  out.listen.host = "127.0.0.1";
  if (fields.size() == 4 && !parse_bind(fields[i++], out.listen.host)) {
    return failure("bad bind address '" + fields[0] +
                   "' in forward spec (expected an IP address or *)");
  }
  const auto port = parse_port(fields[i++], services);
  if (!port) {
    return failure("local port: " + port.error() + " in forward spec '" + std::string(text) + "'");
  }
  out.listen.port = *port;
  auto target = parse_host_port(fields[i], fields[i + 1], services);
  if (!target) {
    return failure(target.error() + " in forward spec '" + std::string(text) + "'");
  }
  out.target = std::move(*target);
  return out;
}

Result<proto::HostPort> parse_listen_spec(std::string_view text, proto::ServiceLookup services) {
  std::vector<std::string> fields;
  if (!split_fields(text, fields) || fields.empty() || fields.size() > 2) {
    return failure("bad listen address '" + std::string(text) + "' (expected [BIND:]PORT)");
  }
  proto::HostPort out{"127.0.0.1", 0};
  if (fields.size() == 2 && !parse_bind(fields[0], out.host)) {
    return failure("bad bind address '" + fields[0] + "' (expected an IP address or *)");
  }
  const auto port = parse_port(fields.back(), services);
  if (!port) {
    return failure(port.error());
  }
  out.port = *port;
  return out;
}

bool is_loopback_bind(std::string_view host) {
  unsigned char a[16];
  const std::string s(host);
  if (proto::is_ipv4_literal(host) && inet_pton(AF_INET, s.c_str(), a) == 1) {
    return a[0] == 127;
  }
  if (proto::is_ipv6_literal(host) && inet_pton(AF_INET6, s.c_str(), a) == 1) {
    static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    // ::1, or an IPv4-mapped 127.x.y.z
    return std::equal(a, a + 16, loopback) || (std::equal(a, a + 12, mapped) && a[12] == 127);
  }
  return false;  // "" (every address) included
}

}  // namespace hc::app
