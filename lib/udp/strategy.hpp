/// UDP associations under a chain strategy (chain/strategy.hpp), the way TCP chains are opened:
/// the planner picks the hops, dead ones are skipped, a hop that fails is blamed and replaced
/// (up to max_attempts associations). A UDP association needs plain SOCKS5 hops that grant UDP
/// ASSOCIATE: under a non-strict strategy the others are left out of the selection (each named
/// once in the log) instead of failing the whole association; strict refuses them as before.
#pragma once

#include <vector>

#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "transport/asio.hpp"
#include "udp/association.hpp"

namespace hc::udp {

/// Association::open through services.planner when it is set and not strict, else straight
/// through `hops`. The error returned is the last attempt's; when no hop of the list can carry
/// UDP, it names the last one found unable and says so.
awaitable<Association::Opened> open_association(const chain::Hops& hops, chain::Services& services);

}  // namespace hc::udp
