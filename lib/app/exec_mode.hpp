/// exec mode: a command in its own network namespace, each of its TCP connections and UDP
/// datagrams carried through the chain to the destination it asked for (lib/capture/namespace.hpp).
#pragma once

#include "app/config.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "base/result.hpp"
#include "capture/namespace.hpp"
#include "chain/services.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// Builds the namespace and its capture sockets; the command waits for run_exec. Called first
/// thing in run(), before any thread exists (it forks) or any signal disposition changes (the
/// command inherits them). The error is the exit status, after logging why (2).
Result<capture::CaptureNamespace, int> start_exec_namespace(const Config& config);

/// Starts the command, serves its captured connections and datagrams, forwards stop signals to
/// it, and returns its exit status (128 + N if a signal N ended it) once it has exited and the
/// tunnels have drained (for a bounded time); 127 or 126 when it could not be executed.
awaitable<int> run_exec(const Config& config, capture::CaptureNamespace& space,
                        chain::Services& services, ServerStats& totals, UdpTotals& udp_totals);

}  // namespace hc::app
