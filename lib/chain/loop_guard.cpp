#include "chain/loop_guard.hpp"

#include <algorithm>

#include "transport/own_endpoints.hpp"

namespace hc::chain {
namespace {

/// Whether hop `k` (0-based) runs on this host, as far as can be told without a lookup: hop 1 by
/// the address connected to, each later one by its address given as a literal (or localhost).
bool hop_on_this_host(const Hops& hops, std::size_t k, const asio::ip::address& first_peer) {
  if (!transport::is_this_host(first_peer)) {
    return false;
  }
  for (std::size_t i = 1; i <= k; ++i) {
    const auto addresses = transport::literal_addresses(hops[i]->spec.server.host);
    if (addresses.empty() ||
        !std::all_of(addresses.begin(), addresses.end(), transport::is_this_host)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<tcp::endpoint> own_listener_among(const std::vector<asio::ip::address>& addresses,
                                                std::uint16_t port) {
  for (const auto& a : addresses) {
    if (transport::is_own_listener({a, port})) {
      return tcp::endpoint(a, port);
    }
  }
  return std::nullopt;
}

bool hop_loops_back(const Hops& hops, std::size_t k, const proto::HostPort& next,
                    const asio::ip::address& first_peer) {
  const auto addresses = transport::literal_addresses(next.host);
  return own_listener_among(addresses, next.port) && hop_on_this_host(hops, k, first_peer);
}

}  // namespace hc::chain
