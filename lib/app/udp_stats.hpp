/// UDP sessions counted as connections: what `udp` mode and captured datagrams report.
#pragma once

#include <chrono>
#include <cstddef>

#include "app/stats.hpp"
#include "udp/udp_relay.hpp"

namespace hc::app {

/// Session options whose hooks count into `totals`: a flow's session as a connection, each
/// association that fails as a failure, and (-v, --stats) a close line per session.
udp::ForwardOptions counted_udp_options(std::chrono::milliseconds idle_timeout,
                                        std::size_t max_sources, ServerStats& totals);

}  // namespace hc::app
