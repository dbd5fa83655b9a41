#include "udp/resolve_host.hpp"

#include <utility>

#include "chain/chain_error.hpp"
#include "dns/resolver.hpp"

namespace hc::udp {

awaitable<Resolved> resolve_host(dns::Resolver& resolver, std::string host) {
  std::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    co_return Resolved{{}, {literal}};
  }
  auto [rec, addresses] = co_await resolver.resolve(std::move(host));
  if (!rec && addresses.empty()) {
    rec = chain::ChainErrc::no_address;
  }
  co_return Resolved{rec, std::move(addresses)};
}

}  // namespace hc::udp
