/// Host names of the UDP code (relays, targets) to addresses.
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "transport/asio.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::udp {

struct Resolved {
  std::error_code ec;
  std::vector<asio::ip::address> addresses;  ///< not empty when ec is not set
};

/// An IP literal is its own address, without the resolver; a name that resolves to nothing fails
/// with chain::ChainErrc::no_address.
awaitable<Resolved> resolve_host(dns::Resolver& resolver, std::string host);

}  // namespace hc::udp
