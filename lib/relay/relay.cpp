#include "relay/relay.hpp"

#include <memory>
#include <vector>

namespace hc::relay {
namespace {

// Large enough that a bulk transfer needs few system calls per megabyte.
constexpr std::size_t kBufferSize = 64 * 1024;

bool is_clean_end(const std::error_code& ec) { return ec == asio::error::eof; }

awaitable<DirectionStats> pump(transport::Stream& from, transport::Stream& to) {
  DirectionStats stats;
  auto buffer = std::make_unique<std::uint8_t[]>(kBufferSize);
  for (;;) {
    auto [read_ec, n] = co_await from.read_some({buffer.get(), kBufferSize});
    if (n > 0) {
      auto [write_ec, written] = co_await to.write_all({buffer.get(), n});
      stats.bytes += written;
      if (write_ec) {
        stats.error = write_ec;
        from.close();
        to.close();
        co_return stats;
      }
    }
    if (is_clean_end(read_ec)) {
      co_await to.shutdown_send();
      co_return stats;
    }
    if (read_ec) {
      // The other direction may be parked on a read that would never end: abort both sides.
      stats.error = read_ec;
      from.close();
      to.close();
      co_return stats;
    }
  }
}

}  // namespace

awaitable<RelayStats> relay(transport::Stream& local, transport::Stream& remote) {
  using namespace asio::experimental::awaitable_operators;
  auto [up, down] = co_await (pump(local, remote) && pump(remote, local));
  co_return RelayStats{up, down};
}

}  // namespace hc::relay
