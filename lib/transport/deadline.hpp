/// The one timeout mechanism for connects and handshakes: a watchdog timer that, on expiry,
/// closes the TCP socket under every layer while the operation runs. Closing (rather than only
/// cancelling) fails whatever is pending at any depth, a TLS handshake inside a tunnel included.
///
/// Why not `op || timer`: Asio 1.22's parallel group (behind awaitable `||`) can leave a freed
/// cancellation handler in the waiting coroutine's slot when a branch completes straight from its
/// initiation (a connect that fails at once with EMFILE), and costs two coroutine spawns per
/// wait. The watchdog is one timer: the operation is awaited directly, so it keeps the caller's
/// cancellation, and nothing but the timer outlives it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "transport/asio.hpp"

namespace hc::transport {

/// Shared by a deadline and its timer's handler: the handler may run after the deadline's frame
/// is gone (a timer that expired just as the operation ended), so it only touches `bottom`
/// while the operation is still running.
struct Watchdog {
  tcp::socket* bottom = nullptr;  // null once the operation has ended
  bool fired = false;
};

/// Arms a timer that closes `*watchdog->bottom` after `timeout` unless the watchdog was disarmed.
void arm_watchdog(asio::steady_timer& timer, const std::shared_ptr<Watchdog>& watchdog,
                  std::chrono::steady_clock::duration timeout);

/// Runs `op`; returns its result, or nullopt if `timeout` passed first (`bottom` is then closed,
/// which is what ends `op`).
template <typename T>
awaitable<std::optional<T>> with_deadline(tcp::socket& bottom,
                                          std::chrono::steady_clock::duration timeout,
                                          awaitable<T> op) {
  auto watchdog = std::make_shared<Watchdog>(Watchdog{&bottom, false});
  asio::steady_timer timer(co_await asio::this_coro::executor);
  arm_watchdog(timer, watchdog, timeout);
  T result = co_await std::move(op);
  watchdog->bottom = nullptr;
  timer.cancel();
  if (watchdog->fired) {
    co_return std::nullopt;
  }
  co_return std::optional<T>(std::move(result));
}

}  // namespace hc::transport
