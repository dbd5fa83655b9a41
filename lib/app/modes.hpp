/// The front ends that expose a finished tunnel: stdio and local TCP forwards.
#pragma once

#include "app/config.hpp"
#include "chain/open_chain.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// Joins stdin/stdout to the target through the chain. Returns the exit status.
awaitable<int> run_stdio(const Config& config, chain::Services& services);

/// Listens on every forward spec and builds a fresh chain per accepted connection. Returns only
/// when it cannot listen (exit status 1); otherwise runs until the io_context stops.
awaitable<int> run_forward(const Config& config, chain::Services& services);

}  // namespace hc::app
