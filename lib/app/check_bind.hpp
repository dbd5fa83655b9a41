/// `check --bind`: which hops accept SOCKS BIND, each asked as the last hop of the hops up to it
/// (under a non-strict strategy, alone, as any of them may be picked), the way `remote` and a
/// SOCKS client's BIND would use it. Each BIND is closed as soon as its first reply came.
#pragma once

#include <string>
#include <vector>

#include "app/config.hpp"
#include "chain/hop.hpp"
#include "chain/services.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// What check probes hop `i` through: the hops up to it under the strict strategy, else the hop
/// alone (any hop may be picked first).
chain::Hops probe_path(const chain::Hops& hops, std::size_t i, bool strict);

struct BindVerdict {
  /// yes (it listens), no (REP 0x07 or a hang-up: no BIND there), refused (this BIND was
  /// refused otherwise, e.g. by a rule), n/a (an HTTP hop: CONNECT has no BIND), not reached
  std::string word = "not reached";
  std::string detail;  ///< yes: "listening at ADDR:PORT"; otherwise the error, if any
};

/// One verdict per hop of the planner's chain; `reached[i]`: the walk got to hop i (otherwise
/// it is not asked).
awaitable<std::vector<BindVerdict>> probe_binds(const Config& config, chain::Services& services,
                                                const std::vector<bool>& reached);

}  // namespace hc::app
