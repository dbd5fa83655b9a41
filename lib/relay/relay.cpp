#include "relay/relay.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "relay/splice.hpp"
#include "transport/readiness_wait.hpp"

namespace hc::relay {
namespace {

// Large enough that a bulk transfer needs few system calls per megabyte.
constexpr std::size_t kBufferSize = 64 * 1024;

void abort_both(transport::Stream& a, transport::Stream& b) {
  // The other direction may be parked on a read that would never end. Linger 0 turns the close
  // into a reset, so a peer cannot mistake a broken tunnel for a clean end (a download cut by a
  // reset upstream would otherwise look complete).
  for (transport::Stream* s : {&a, &b}) {
    if (tcp::socket* bottom = s->bottom(); bottom != nullptr && bottom->is_open()) {
      std::error_code ignored;
      bottom->set_option(asio::socket_base::linger(true, 0), ignored);
    }
    s->close();
  }
}

/// Ends a direction: FIN on a clean EOF, abort on an error.
awaitable<DirectionStats> finish(DirectionStats stats, transport::Stream& from,
                                 transport::Stream& to) {
  if (stats.error) {
    abort_both(from, to);
  } else {
    co_await to.shutdown_send();
  }
  co_return stats;
}

/// Counts bytes a direction delivered, in its stats and in the live count when there is one.
void carried(DirectionStats& stats, std::uint64_t* live, std::size_t n) {
  stats.bytes += n;
  if (live != nullptr) {
    *live += n;
  }
}

std::uint64_t* live_up(const RelayOptions& options) {
  return options.live != nullptr ? &options.live->up : nullptr;
}

std::uint64_t* live_down(const RelayOptions& options) {
  return options.live != nullptr ? &options.live->down : nullptr;
}

/// Carries one direction to its end. `stats`: what an earlier phase already carried; `live`:
/// the running count to keep, if any.
awaitable<DirectionStats> pump(transport::Stream& from, transport::Stream& to, RelayOptions options,
                               DirectionStats stats, std::uint64_t* live) {
  std::unique_ptr<std::uint8_t[]> buffer;
  std::size_t buffer_size = 0;
  // Bytes a handshake read ahead (an SSH banner behind an HTTP 200) go first, by copy.
  if (from.buffered() > 0) {
    buffer_size = from.buffered();
    buffer = std::make_unique_for_overwrite<std::uint8_t[]>(buffer_size);
    while (from.buffered() > 0) {
      auto [read_ec, n] = co_await from.read_some({buffer.get(), buffer_size});
      if (read_ec) {
        stats.error = read_ec;
        co_return co_await finish(stats, from, to);
      }
      auto [write_ec, written] = co_await to.write_all({buffer.get(), n});
      carried(stats, live, written);
      if (write_ec) {
        stats.error = write_ec;
        co_return co_await finish(stats, from, to);
      }
    }
  }
  if (options.allow_splice && from.raw_io() && to.raw_io()) {
    const SpliceResult spliced = co_await splice_until_eof(*from.raw_io(), *to.raw_io(), live);
    stats.bytes += spliced.bytes;
    if (spliced.outcome != SpliceOutcome::unsupported) {
      stats.spliced = true;
      stats.error = spliced.error;
      co_return co_await finish(stats, from, to);
    }
  }
  if (buffer_size < kBufferSize) {
    // Allocated only now, and not zero-filled: the pages of an idle tunnel's buffer are never
    // touched, so they cost address space, not resident memory.
    buffer_size = kBufferSize;
    buffer = std::make_unique_for_overwrite<std::uint8_t[]>(buffer_size);
  }
  for (;;) {
    auto [read_ec, n] = co_await from.read_some({buffer.get(), buffer_size});
    if (n > 0) {
      auto [write_ec, written] = co_await to.write_all({buffer.get(), n});
      carried(stats, live, written);
      if (write_ec) {
        stats.error = write_ec;
        co_return co_await finish(stats, from, to);
      }
    }
    if (read_ec) {
      if (read_ec != asio::error::eof) {
        stats.error = read_ec;
      }
      co_return co_await finish(stats, from, to);
    }
  }
}

/// What the two directions share while the remote side's first byte is awaited.
struct Watch {
  transport::FirstBytes& first_bytes;
  bool may_resend;  ///< an early end may follow bytes already sent up (see the header)
  /// Expires only when decide() sets it to the past, so a wait started after the decision (the
  /// awaitable operators start their branches later) ends at once too.
  asio::steady_timer decided_signal;
  /// The up direction's wait for the local side, which the decision also ends.
  transport::ReadinessWait local_ready;
  bool decided = false;
  bool ended_early = false;
  bool local_failed = false;

  void decide(bool early) {
    decided = true;
    ended_early = early;
    decided_signal.expires_at(asio::steady_timer::time_point::min());
    local_ready.wake();
  }
};

/// The local side's EOF was read before the relay: only the FIN is left to pass on.
awaitable<DirectionStats> pump_ended(transport::Stream& from, transport::Stream& to) {
  co_return co_await finish(DirectionStats{}, from, to);
}

/// Up, until the remote side's first byte: waits for the local side to be readable (a wait
/// that can be abandoned without losing a byte), then copies and records what it reads.
awaitable<DirectionStats> pump_up_watched(transport::Stream& local, transport::Stream& remote,
                                          RelayOptions options, Watch& watch) {
  DirectionStats stats;
  {
    std::unique_ptr<std::uint8_t[]> buffer;
    transport::RawIo& raw = *local.raw_io();
    while (!watch.decided && watch.first_bytes.complete()) {
      // An error here (a regular file cannot be waited on: it is always ready) is left for the
      // read to report.
      co_await watch.local_ready.readable_or_woken(raw);
      if (watch.decided) {
        break;
      }
      if (!buffer) {
        buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kBufferSize);
      }
      auto [read_ec, n] = co_await local.read_some({buffer.get(), kBufferSize});
      if (n > 0) {
        watch.first_bytes.record({buffer.get(), n});
      }
      if (watch.decided && watch.ended_early) {
        // Read after the remote side ended: kept for the next chain, never written to this
        // one, so the next chain's copy is the only one.
        if (read_ec == asio::error::eof) {
          watch.first_bytes.mark_local_ended();
        }
        co_return stats;
      }
      if (n > 0) {
        auto [write_ec, written] = co_await remote.write_all({buffer.get(), n});
        carried(stats, live_up(options), written);
        if (write_ec) {
          // The remote side is gone; the down direction tells whether that was before its
          // first byte.
          while (!watch.decided) {
            co_await watch.decided_signal.async_wait(nothrow);
          }
          if (watch.ended_early) {
            co_return stats;
          }
          stats.error = write_ec;
          co_return co_await finish(stats, local, remote);
        }
      }
      if (read_ec == asio::error::eof) {
        watch.first_bytes.mark_local_ended();
        co_return co_await finish(stats, local, remote);
      }
      if (read_ec) {
        watch.local_failed = true;
        stats.error = read_ec;
        co_return co_await finish(stats, local, remote);
      }
    }
  }
  if (watch.ended_early) {
    co_return stats;  // left for the caller, local side untouched
  }
  co_return co_await pump(local, remote, options, stats, live_up(options));
}

/// Down: the first read decides between "the tunnel works" and "it ended before its first byte".
awaitable<DirectionStats> pump_down_watched(transport::Stream& remote, transport::Stream& local,
                                            RelayOptions options, Watch& watch) {
  DirectionStats stats;
  // An idle tunnel waits here without a buffer where it can; the first chunk is read small, the
  // rest goes by pump (spliced where it can be).
  if (transport::RawIo* raw = remote.raw_io()) {
    co_await raw->wait_readable();
  }
  constexpr std::size_t kFirstChunk = 2048;
  auto first = std::make_unique_for_overwrite<std::uint8_t[]>(kFirstChunk);
  auto [read_ec, n] = co_await remote.read_some({first.get(), kFirstChunk});
  if (n == 0) {
    const bool early = watch.first_bytes.complete() && !watch.first_bytes.local_ended() &&
                       !watch.local_failed &&
                       (watch.may_resend || watch.first_bytes.bytes().empty());
    watch.decide(early);
    stats.error = read_ec;
    if (early) {
      co_return stats;
    }
    if (read_ec == asio::error::eof) {
      stats.error = {};
    }
    co_return co_await finish(stats, remote, local);
  }
  watch.decide(false);
  auto [write_ec, written] = co_await local.write_all({first.get(), n});
  carried(stats, live_down(options), written);
  if (write_ec || (read_ec && read_ec != asio::error::eof)) {
    stats.error = write_ec ? write_ec : read_ec;
    co_return co_await finish(stats, remote, local);
  }
  if (read_ec) {
    co_return co_await finish(stats, remote, local);
  }
  first.reset();
  co_return co_await pump(remote, local, options, stats, live_down(options));
}

}  // namespace

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote,
                            RelayOptions options) {
  using namespace asio::experimental::awaitable_operators;
  if (options.local_ended) {
    auto [up, down] = co_await (pump_ended(local, remote) &&
                                pump(remote, local, options, {}, live_down(options)));
    co_return RelayStats{up, down};
  }
  auto [up, down] = co_await (pump(local, remote, options, {}, live_up(options)) &&
                              pump(remote, local, options, {}, live_down(options)));
  co_return RelayStats{up, down};
}

awaitable<RelayStats> relay_watching_first_byte(transport::Stream& local, transport::Stream& remote,
                                                transport::FirstBytes& first_bytes, bool may_resend,
                                                RelayOptions options) {
  using namespace asio::experimental::awaitable_operators;
  // Bytes already read ahead from the remote side are its first byte: nothing to watch. Nor is
  // there when the user's bytes already went and may not go again.
  if (options.local_ended || local.raw_io() == nullptr || remote.buffered() > 0 ||
      (!may_resend && !first_bytes.bytes().empty())) {
    co_return co_await relay(local, remote, options);
  }
  const auto ex = co_await asio::this_coro::executor;
  Watch watch{first_bytes, may_resend,
              asio::steady_timer(ex, asio::steady_timer::time_point::max()),
              transport::ReadinessWait(ex)};
  auto [up, down] = co_await (pump_up_watched(local, remote, options, watch) &&
                              pump_down_watched(remote, local, options, watch));
  co_return RelayStats{up, down, watch.ended_early};
}

RelayOptions relay_options_from_environment() {
  static const RelayOptions options = [] {
    RelayOptions o;
    const char* mode = std::getenv("HOPCHAIN_RELAY");
    o.allow_splice = !(mode && std::strcmp(mode, "copy") == 0);
    return o;
  }();
  return options;
}

}  // namespace hc::relay
