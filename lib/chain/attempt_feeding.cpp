// The user's bytes sent behind a pipelined batch while its replies are awaited.
#include "chain/attempt.hpp"

namespace hc::chain {

/// The replies, while the user's bytes are fed behind the requests by a task of its own; it is
/// waited for before returning, so a write of the user's bytes is never cut short. A task and
/// two timers rather than `&&`: see transport/readiness_wait.hpp.
awaitable<Failure> Attempt::read_replies_feeding(Batch& batch) {
  const auto ex = co_await asio::this_coro::executor;
  struct Feeding {
    explicit Feeding(const asio::any_io_executor& ex)
        : local_ready(ex), ended(ex, asio::steady_timer::time_point::max()) {}
    transport::ReadinessWait local_ready;
    asio::steady_timer ended;  ///< cancelled when the feeder returns
    bool done = false;
  };
  const auto feeding = std::make_shared<Feeding>(ex);
  asio::co_spawn(
      ex, [this, feeding]() -> awaitable<void> { co_await feed_user_bytes(feeding->local_ready); },
      [feeding](const std::exception_ptr&) {  // the feeder's operations do not throw
        feeding->done = true;
        feeding->ended.cancel();
      });
  Failure failed = co_await read_replies(batch);
  feeding->local_ready.wake();
  if (!feeding->done) {
    co_await feeding->ended.async_wait(nothrow);
  }
  co_return failed;
}

/// While an optimistic batch's replies come (a round trip per link), what the user sends goes
/// out at once behind the requests: ssh's identification string, written a moment after the
/// batch left, then still reaches the server before the last reply is in. Only the wait is ever
/// cut short (by the last reply), never a write. A failed write is left for the reply's read to
/// report; its bytes count as sent, since some may have gone.
awaitable<void> Attempt::feed_user_bytes(transport::ReadinessWait& local_ready) {
  for (;;) {
    transport::RawIo* local = first_bytes_->waitable();
    if (local == nullptr) {
      co_return;
    }
    const std::error_code failed = co_await local_ready.readable_or_woken(*local);
    if (failed || local_ready.woken() || !first_bytes_->poll_more()) {
      co_return;
    }
    if (co_await write_more_user_bytes()) {
      co_return;
    }
  }
}

}  // namespace hc::chain
