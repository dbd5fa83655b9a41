/// Moves bytes both ways between two streams until both directions have ended.
///
/// Half-close is carried through: EOF from one side becomes shutdown_send on the other while the
/// opposite direction keeps flowing. An error on either side (a reset, a write to a closed peer)
/// aborts both, so the failure propagates instead of leaving the other direction hanging.
#pragma once

#include <cstdint>
#include <system_error>

#include "transport/stream.hpp"

namespace hc::relay {

struct DirectionStats {
  std::uint64_t bytes = 0;
  std::error_code error;  ///< empty when the direction ended with a clean EOF
};

struct RelayStats {
  DirectionStats up;    ///< local -> remote
  DirectionStats down;  ///< remote -> local
};

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote);

}  // namespace hc::relay
