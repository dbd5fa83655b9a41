/// The tunnel of one accepted TCP connection whose target is known at accept time (forward's
/// fixed target, a captured connection's original destination): its own chain with what the
/// client already sent riding along, the relay, and one connection's statistics.
#pragma once

#include <string>

#include "app/listener.hpp"
#include "app/stats.hpp"
#include "chain/services.hpp"
#include "proto/types.hpp"

namespace hc::app {

/// `who` prefixes every line of this connection; `services` carries its log tag. A chain
/// failure is logged and ends this connection only (the client sees a reset).
awaitable<void> tunnel_accepted(tcp::socket accepted, std::string who, proto::HostPort target,
                                chain::Services services, ServerStats& totals);

}  // namespace hc::app
