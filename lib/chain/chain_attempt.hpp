/// One attempt at a chain, the engine's core (used by open_chain and the pipelining probe):
/// connect to hop 1 (or the target), then hop by hop its TLS session and its handshake, asking
/// for the next hop or, at the last hop, for the target. Nothing is retried or probed here, and
/// everything but the result goes to the observer.
#pragma once

#include "chain/chain_observer.hpp"
#include "chain/open_chain.hpp"

namespace hc::chain {

struct AttemptOutcome {
  ChainResult result;
  /// A pipelined hop went silent or hung up mid-handshake: it is now known to refuse
  /// pipelining, and a sequential attempt may succeed.
  bool pipelining_failed = false;
};

/// `first_bytes` as for open_chain.
awaitable<AttemptOutcome> attempt_chain(const Hops& hops, const proto::HostPort& target,
                                        Services& services, ChainObserver& observer,
                                        transport::FirstBytes* first_bytes);

}  // namespace hc::chain
