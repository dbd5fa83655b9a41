#include "relay/relay.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "relay/splice.hpp"

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

awaitable<DirectionStats> pump(transport::Stream& from, transport::Stream& to,
                               RelayOptions options) {
  DirectionStats stats;
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
      stats.bytes += written;
      if (write_ec) {
        stats.error = write_ec;
        co_return co_await finish(stats, from, to);
      }
    }
  }
  if (options.allow_splice && from.raw_io() && to.raw_io()) {
    const SpliceResult spliced = co_await splice_until_eof(*from.raw_io(), *to.raw_io());
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
      stats.bytes += written;
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

}  // namespace

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote,
                            RelayOptions options) {
  using namespace asio::experimental::awaitable_operators;
  auto [up, down] = co_await (pump(local, remote, options) && pump(remote, local, options));
  co_return RelayStats{up, down};
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
