#include "app/endpoint_syntax.hpp"

#include <charconv>
#include <vector>

namespace hc::app {
namespace {

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  for (unsigned char c : host) {
    if (c <= 0x20 || c == 0x7F) {
      return false;
    }
  }
  return true;
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

}  // namespace

std::string parse_host_port(std::string_view host, std::string_view port, proto::HostPort& out) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!proto::is_ipv6_literal(host)) {
      return "bad IPv6 address in brackets";
    }
  }
  if (!valid_host(host)) {
    return "bad host name";
  }
  if (!parse_port(port, out.port)) {
    return "bad port '" + std::string(port) + "' (expected 1 to 65535)";
  }
  out.host = std::string(host);
  return {};
}

std::string parse_forward_spec(std::string_view text, ForwardSpec& out) {
  std::vector<std::string> fields;
  if (!split_fields(text, fields) || (fields.size() != 3 && fields.size() != 4)) {
    return "bad forward spec '" + std::string(text) + "' (expected [BIND:]LPORT:HOST:PORT)";
  }
  std::size_t i = 0;
  out.listen.host = "127.0.0.1";
  if (fields.size() == 4) {
    const std::string& bind = fields[i++];
    if (bind == "*") {
      out.listen.host.clear();
    } else if (proto::is_ipv4_literal(bind) || proto::is_ipv6_literal(bind)) {
      out.listen.host = bind;
    } else if (bind == "localhost") {
      out.listen.host = "127.0.0.1";
    } else {
      return "bad bind address '" + bind + "' in forward spec (expected an IP address or *)";
    }
  }
  if (!parse_port(fields[i++], out.listen.port)) {
    return "bad local port in forward spec '" + std::string(text) + "'";
  }
  const std::string error = parse_host_port(fields[i], fields[i + 1], out.target);
  if (!error.empty()) {
    return error + " in forward spec '" + std::string(text) + "'";
  }
  return {};
}

}  // namespace hc::app
