/// This process's own listening TCP endpoints (forward and socks listeners), so that a chain
/// whose first connection, or a hop on this host asked for the next address, would come back
/// to one of them is refused as a proxy loop instead of nesting connections until descriptors
/// run out. A listener on every address (`*`) matches loopback and the host's own addresses on
/// its port; one on a given address matches that address only.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "transport/asio.hpp"

namespace hc::transport {

/// The endpoints and the match, pure (the host's addresses are a parameter) for tests.
class OwnEndpoints {
 public:
  void add(const tcp::endpoint& listening);
  /// Whether a connection to `to` would reach one of the listeners. `host_addresses`: the
  /// addresses of this host's interfaces, asked for only when a listener on every address has
  /// `to`'s port (loopback is always this host).
  bool reaches(const tcp::endpoint& to,
               const std::function<std::vector<asio::ip::address>()>& host_addresses) const;
  bool empty() const { return endpoints_.empty(); }

 private:
  std::vector<tcp::endpoint> endpoints_;
};

/// The process-wide registry, filled by app::open_listener (thread-safe).
void register_own_listener(const tcp::endpoint& listening);
/// Whether a connection to `to` would come back to this process (a proxy loop).
bool is_own_listener(const tcp::endpoint& to);
/// The addresses of this host's interfaces (getifaddrs), for OwnEndpoints::reaches.
std::vector<asio::ip::address> host_addresses();

/// Whether `address` is this host's: loopback or one of its interfaces' addresses.
bool is_this_host(const asio::ip::address& address);

/// For a hop on this host asked for `host`: the addresses it stands for when that is known
/// without a lookup (an IP literal, or "localhost"); empty otherwise.
std::vector<asio::ip::address> literal_addresses(std::string_view host);

}  // namespace hc::transport
