/// Proxy loops seen from a chain: whether its first connection, or a hop on this host asked for
/// the next address, would come back to one of this process's listeners
/// (transport/own_endpoints.hpp). Refusing those bounds a loop to zero nested connections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "chain/hop.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::chain {

/// The first of `addresses` at `port` that is one of this process's listeners, if any.
std::optional<tcp::endpoint> own_listener_among(const std::vector<asio::ip::address>& addresses,
                                                std::uint16_t port);

/// Whether hop `k` (0-based) of `hops`, asked for `next`, would connect back to this process:
/// `next` names one of our listeners without a lookup (an IP literal or localhost) and the hop
/// runs on this host (hop 1 by `first_peer`, the address connected to; each later one by its
/// address given as a literal).
bool hop_loops_back(const Hops& hops, std::size_t k, const proto::HostPort& next,
                    const asio::ip::address& first_peer);

}  // namespace hc::chain
