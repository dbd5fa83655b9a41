/// Serves connections that a netfilter rule redirected to a local listener (`exec`'s namespace,
/// `redirect` on a host or container): each goes through the chain to the destination the
/// program asked for, read back from conntrack, with forward mode's tunnel (strategy, retries,
/// optimistic data, statistics). A connection whose destination cannot be learnt, or is the
/// listener itself, is reset and logged; a chain failure resets that connection only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "app/listener.hpp"
#include "app/stats.hpp"
#include "chain/services.hpp"
#include "proto/types.hpp"

namespace hc::app {

/// What the chain is asked for, given the captured destination. The default asks for the
/// address itself; fake DNS maps its own addresses back to the names they stand for. nullopt
/// refuses the connection (the reason is the mapper's to log).
using CapturedTarget = std::function<std::optional<proto::HostPort>(const tcp::endpoint&)>;

struct CaptureFront {
  std::string label;      ///< prefixes log lines: "exec", "redirect 0.0.0.0:12345"
  CapturedTarget target;  ///< empty: the captured address itself
};

/// Accepts on `acceptor` until it is closed or the loop stops. `services` and `totals` must
/// outlive the loop.
awaitable<void> serve_captured_tcp(tcp::acceptor acceptor, CaptureFront front,
                                   chain::Services& services, ServerStats& totals);

}  // namespace hc::app
