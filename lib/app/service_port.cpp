/// Numeric ports and service names.
#include "app/service_port.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <netdb.h>

namespace hc::app {
namespace {

std::uint16_t service_port(std::string_view name, const char* protocol) {
  const std::string text(name);
  struct servent entry {};
  struct servent* found = nullptr;
  char buf[1024];
  // The _r form: getservbyname's static result is shared by every thread.
  if (::getservbyname_r(text.c_str(), protocol, &entry, buf, sizeof buf, &found) != 0 ||
      found == nullptr) {
    return 0;
  }
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

}  // namespace

std::uint16_t tcp_service_port(std::string_view name) {
  return service_port(name, "tcp");
}

std::uint16_t udp_service_port(std::string_view name) {
  return service_port(name, "udp");
}

Result<std::uint16_t> parse_port(std::string_view text, proto::ServiceLookup services) {
  if (services != nullptr && proto::is_service_name(text)) {
    const std::uint16_t found = services(text);
    if (found == 0) {
      return failure("unknown service name '" + std::string(text) + "' (not in /etc/services)");
    }
    return found;
  }
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
    return failure("bad port '" + std::string(text) + "' (expected 1 to 65535 or a service name)");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace hc::app
