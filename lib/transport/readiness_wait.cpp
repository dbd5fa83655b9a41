#include "transport/readiness_wait.hpp"

#include <utility>

namespace hc::transport {

ReadinessWait::State::State(const asio::any_io_executor& ex)
    : never(ex, asio::steady_timer::time_point::max()) {}

ReadinessWait::ReadinessWait(const asio::any_io_executor& ex)
    : state_(std::make_shared<State>(ex)) {}

awaitable<std::error_code> ReadinessWait::readable_or_woken(RawIo& local) {
  const std::shared_ptr<State> s = state_;
  if (!s->readable && !s->woken) {
    if (!s->watching) {
      s->watching = true;
      local.notify_readable([s](std::error_code ec) {
        s->watching = false;
        s->readable = true;
        s->failure = ec;
        s->never.cancel();
      });
    }
    // One thread: nothing can come between the check above and this wait.
    co_await s->never.async_wait(nothrow);
  }
  s->readable = false;
  co_return std::exchange(s->failure, {});
}

void ReadinessWait::wake() {
  state_->woken = true;
  state_->never.cancel();
}

}  // namespace hc::transport
