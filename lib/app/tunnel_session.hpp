/// One local connection's tunnel, shared by the stdio, forward and socks modes: open a chain to
/// the target, send the user's first bytes (with the last hop's request where the hop takes
/// them, else first thing), relay, and when the chain ends before the target's first byte,
/// under a non-strict strategy, carry on over other hops (bounded by the strategy's attempts).
/// hopchain cannot tell "the hop never reached the target" from "the target read the request
/// and closed", so the user's bytes never go out twice: another chain is tried only while none
/// went up yet, unless the last hop has grants-early=1 (then its failure is counted and the same
/// first bytes, up to FirstBytes' limit, are sent again).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "proto/types.hpp"
#include "relay/relay.hpp"
#include "transport/stream.hpp"

namespace hc::app {

struct TunnelOptions {
  /// stdio and forward: what the user already wrote may go with the last hop's request. Not in
  /// socks mode, whose client waits for its grant before it sends anything.
  bool optimistic_data = false;
  /// Called once, when the first chain is open and before any byte moves (the SOCKS server's
  /// grant). Returning false ends the tunnel: the local side went away.
  std::function<awaitable<bool>(transport::Stream& remote)> on_open;
  /// Called with every chain attempt's result, as soon as it is known: an opened chain (its
  /// timing), a chain that failed to open, and one that ended before its first byte (an error,
  /// even when another attempt follows). For statistics.
  std::function<void(const chain::ChainResult& attempt)> on_chain;
  /// Running byte counts of the current attempt's relay (first bytes included), for a report
  /// on a tunnel cut short before run_tunnel returns.
  relay::LiveBytes* live = nullptr;
};

struct TunnelOutcome {
  /// The chain used last (its stream closed). error is set when no chain opened, or when an
  /// opened chain ended before its first byte and no other could take its place; the local side
  /// was then reset (aborted), so a client sees a failure rather than a clean end.
  chain::ChainResult chain;
  bool opened = false;      ///< a chain opened: on_open ran, so a refusal can no longer be sent
  bool relayed = false;     ///< stats are set
  relay::RelayStats stats;  ///< of the last relay; up.bytes includes the first bytes
};

awaitable<TunnelOutcome> run_tunnel(transport::Stream& local, const chain::Hops& hops,
                                    const proto::HostPort& target, chain::Services& services,
                                    TunnelOptions options = {});

}  // namespace hc::app
