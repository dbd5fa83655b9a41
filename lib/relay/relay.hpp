/// Moves bytes both ways between two streams until both directions have ended.
///
/// Half-close is carried through: EOF from one side becomes shutdown_send on the other while the
/// opposite direction keeps flowing. An error on either side (a reset, a write to a closed peer)
/// aborts both, so the failure propagates instead of leaving the other direction hanging.
/// Where both ends are plain descriptors (no TLS layer) bytes move with splice(2); bytes that
/// were read ahead during a handshake are flushed first.
#pragma once

#include <cstdint>
#include <system_error>

#include "transport/stream.hpp"

namespace hc::relay {

struct DirectionStats {
  std::uint64_t bytes = 0;
  std::error_code error;  ///< empty when the direction ended with a clean EOF
  bool spliced = false;   ///< the zero-copy path carried this direction
};

struct RelayStats {
  DirectionStats up;    ///< local -> remote
  DirectionStats down;  ///< remote -> local
};

struct RelayOptions {
  bool allow_splice = true;
};

/// The default options, with `HOPCHAIN_RELAY=copy` in the environment turning splice off (for
/// comparing the two paths, or a kernel where splice misbehaves).
RelayOptions relay_options_from_environment();

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote,
                            RelayOptions options = relay_options_from_environment());

}  // namespace hc::relay
