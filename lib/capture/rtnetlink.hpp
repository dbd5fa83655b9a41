/// The few rtnetlink requests a capture namespace needs, over libmnl: bring `lo` up, put an
/// address on it, route everything else to it, and (for UDP's tproxy) send marked packets to a
/// table that delivers every destination locally. Each request is acknowledged (NLM_F_ACK), so
/// an error comes back as the kernel's errno. They act on the calling process's network
/// namespace and need CAP_NET_ADMIN there.
#pragma once

#include <cstdint>
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

/// Adds `fwmark MARK lookup TABLE` for `family` (AF_INET, AF_INET6): packets that carry the mark
/// are routed by TABLE alone.
std::error_code add_fwmark_rule(int family, std::uint32_t mark, std::uint32_t table);

/// Adds `local default dev lo table TABLE` in `family`: every destination counts as this host's,
/// so a packet routed by TABLE is delivered locally, where a tproxy rule hands it to a socket.
std::error_code add_local_default_route(int family, std::uint32_t table);

}  // namespace hc::capture
