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

#include "transport/first_bytes.hpp"
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
  /// relay_watching_first_byte only: the remote side ended (EOF or error, in down.error) before
  /// its first byte while the local side was still open; the local side was left untouched.
  bool ended_before_first_byte = false;
};

/// Bytes carried so far each way, kept up to date while the relay runs, for a report on a
/// tunnel that is cut short (the process interrupted) before relay() returns its stats.
struct LiveBytes {
  std::uint64_t up = 0;
  std::uint64_t down = 0;
};

struct RelayOptions {
  bool allow_splice = true;
  LiveBytes* live = nullptr;  ///< where to keep the running counts, if anywhere
  /// The local side's EOF was already read (FirstBytes::poll): the up direction ends at once.
  bool local_ended = false;
};

/// The default options, with `HOPCHAIN_RELAY=copy` in the environment turning splice off (for
/// comparing the two paths, or a kernel where splice misbehaves).
RelayOptions relay_options_from_environment();

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote,
                            RelayOptions options = relay_options_from_environment());

/// relay() for a tunnel that may still turn out dead: until the remote side's first byte, bytes
/// going up are copied (not spliced) and recorded in `first_bytes`. When the remote side ends
/// before its first byte while the local side is still open, and nothing of the user's has gone
/// up yet (or `may_resend`: the caller may send it again), the relay stops there with
/// ended_before_first_byte set, neither shutting down nor closing `local`, so the caller can
/// send first_bytes on another chain; what the local side sent after that end is kept there and
/// not written. Otherwise the end is the target's answer and passes as in relay(): without
/// `may_resend`, a target that read a request and closed must not get it a second time. Once
/// the first byte came, or more went up than first_bytes keeps, it is relay() again, splice
/// included. `local` needs raw_io() for the watch (the modes' sockets and stdio have it);
/// without it this is relay().
awaitable<RelayStats> relay_watching_first_byte(
    transport::Stream& local, transport::Stream& remote, transport::FirstBytes& first_bytes,
    bool may_resend, RelayOptions options = relay_options_from_environment());

}  // namespace hc::relay
