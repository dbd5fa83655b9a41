/// The few rtnetlink requests a capture namespace needs, over libmnl: bring `lo` up, put an
/// address on it, and route everything else to it. Each request is acknowledged (NLM_F_ACK), so
/// an error comes back as the kernel's errno. They act on the calling process's network
/// namespace and need CAP_NET_ADMIN there.
#pragma once

#include <system_error>

#include <asio/ip/address.hpp>

namespace hc::capture {

/// Sets the loopback link (ifindex 1 in every namespace) up.
std::error_code bring_loopback_up();

/// Adds `address`/`prefix_length` on lo (IPv6 without duplicate address detection).
std::error_code add_loopback_address(const asio::ip::address& address, unsigned prefix_length);

/// Adds `default dev lo src SOURCE` in SOURCE's family. Without a source address, connections
/// would leave from 0.0.0.0 (or ::) and a redirected one would stall.
std::error_code add_default_route_to_loopback(const asio::ip::address& source);

}  // namespace hc::capture
