/// Whether a hop takes a pipelined SOCKS5 handshake, found out with a test connection: the
/// probe open_chain starts in the background for hops not known yet, and `check` runs itself.
#pragma once

#include <cstddef>

#include "chain/hop.hpp"
#include "chain/pipeline_memory.hpp"
#include "chain/services.hpp"
#include "transport/asio.hpp"

namespace hc::chain {

/// Checks whether the last of `hops` parses a pipelined handshake (greeting, auth and request in
/// one write), reaching it through the ones before it. Asks it for 127.0.0.1:1, which fails fast
/// everywhere: any complete reply means it parsed everything; only the method reply and then
/// silence means it dropped the rest (microsocks).
awaitable<PipelineVerdict> probe_pipelining(Hops hops, Services& services);

/// A background probe of the last of `hops`, the first hops of a chain of `chain_length`: logs
/// and remembers the verdict. `services` by value: the caller's may be a per-connection copy
/// that is gone before the probe ends; what it points to lives as long as the event loop.
awaitable<void> learn_pipelining(Hops hops, Services services, std::size_t chain_length);

}  // namespace hc::chain
