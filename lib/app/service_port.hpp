/// Ports on the command line may be service names, as ssh and curl accept them (`http`,
/// `socks`): resolved through getservbyname, that is /etc/services.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "proto/proxy_url.hpp"

namespace hc::app {

/// getservbyname(name, "tcp") and (name, "udp"): the port, 0 when unknown. Both fit
/// proto::ServiceLookup, so the sans-IO URL parser can take them.
std::uint16_t tcp_service_port(std::string_view name);
std::uint16_t udp_service_port(std::string_view name);

/// A port 1..65535, or a service name for `services`.
Result<std::uint16_t> parse_port(std::string_view text, proto::ServiceLookup services);

}  // namespace hc::app
