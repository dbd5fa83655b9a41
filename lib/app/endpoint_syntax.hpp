/// Command-line endpoint syntax: ssh -L style forward specs, listen addresses and HOST PORT pairs.
#pragma once

#include <string>
#include <string_view>

#include "app/config.hpp"
#include "app/service_port.hpp"
#include "base/result.hpp"

namespace hc::app {

/// Ports here are numbers or service names for `services` (udp_service_port for udp specs).

/// `[BIND:]LPORT:HOST:PORT`; IPv6 addresses in brackets; BIND `*` = all addresses (host ""),
/// default 127.0.0.1.
Result<ForwardSpec> parse_forward_spec(std::string_view text,
                                       proto::ServiceLookup services = tcp_service_port);

/// `[BIND:]PORT` for a listener (socks mode); the same BIND rules as a forward spec.
Result<proto::HostPort> parse_listen_spec(std::string_view text,
                                          proto::ServiceLookup services = tcp_service_port);

/// True when a listener on `host` (as parse_listen_spec leaves it) is reachable from this machine
/// only: 127.0.0.0/8, ::1 or IPv4-mapped 127.x. False for "" (every address).
bool is_loopback_bind(std::string_view host);

/// A host as given on the command line (`[::1]` or `::1` or a name) and a port 1..65535.
Result<proto::HostPort> parse_host_port(std::string_view host, std::string_view port,
                                        proto::ServiceLookup services = tcp_service_port);

}  // namespace hc::app
