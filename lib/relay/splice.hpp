/// Zero-copy relaying of one direction with splice(2): source descriptor -> pipe -> destination
/// descriptor, so payload bytes never enter user space. Linux only; other systems and descriptor
/// kinds that cannot splice (a tty) report `unsupported`, and the caller copies instead (from
/// the start, or — when no pipe can be had mid-stream — from where splicing stopped: `bytes`
/// counts what already moved). A direction holds a pipe only while it has bytes to move; one in
/// bulk grows it (F_SETPIPE_SZ, bounded by fs.pipe-max-size). When an end is itself a pipe
/// (stdio), bytes go straight between the two ends, with no pipe of our own.
#pragma once

#include <cstdint>
#include <system_error>

#include "transport/stream.hpp"

namespace hc::relay {

enum class SpliceOutcome : std::uint8_t { eof, error, unsupported };

struct SpliceResult {
  SpliceOutcome outcome = SpliceOutcome::unsupported;
  std::uint64_t bytes = 0;
  std::error_code error;
};

/// Moves bytes from `from` to `to` until EOF or an error. Does not shut down or close anything.
/// `progress`, if set, grows with every chunk delivered.
awaitable<SpliceResult> splice_until_eof(transport::RawIo& from, transport::RawIo& to,
                                         std::uint64_t* progress = nullptr);

}  // namespace hc::relay
