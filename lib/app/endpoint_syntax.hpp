/// Command-line endpoint syntax: ssh -L style forward specs and HOST PORT pairs.
#pragma once

#include <string>
#include <string_view>

#include "app/config.hpp"

namespace hc::app {

/// `[BIND:]LPORT:HOST:PORT`; IPv6 addresses in brackets; BIND `*` = all addresses (host ""),
/// default 127.0.0.1. Returns an error message, empty on success.
std::string parse_forward_spec(std::string_view text, ForwardSpec& out);

/// A host as given on the command line (`[::1]` or `::1` or a name) and a port 1..65535.
std::string parse_host_port(std::string_view host, std::string_view port, proto::HostPort& out);

}  // namespace hc::app
