#include "transport/first_to_end.hpp"

#include <cassert>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

namespace hc::transport {
namespace {

/// Shared by the caller and the tasks' completion handlers. A task's cancellation state lives in
/// its signal's slot: the signals must outlive the tasks, so the handlers keep them.
struct Running {
  Running(const asio::any_io_executor& ex, std::size_t count)
      : changed(ex, asio::steady_timer::time_point::max()),
        signals(std::make_unique<asio::cancellation_signal[]>(count)),
        ended(count, false),
        running(count) {}

  /// Cancels every task still running, once.
  void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    for (std::size_t i = 0; i < ended.size(); ++i) {
      if (!ended[i]) {
        signals[i].emit(asio::cancellation_type::terminal);
      }
    }
  }

  asio::steady_timer changed;  ///< expires never: cancelled whenever a task ends
  std::unique_ptr<asio::cancellation_signal[]> signals;
  std::vector<bool> ended;
  std::size_t running;
  std::optional<std::size_t> first;  ///< the first task to return
  std::exception_ptr failure;        ///< the first task to throw
  bool stopping = false;
};

struct TaskEnded {
  std::shared_ptr<Running> r;
  std::size_t index;
  void operator()(const std::exception_ptr& e) const {
    r->ended[index] = true;
    --r->running;
    if (e && !r->failure) {
      r->failure = e;
    }
    if (!e && !r->first) {
      r->first = index;
      r->stop();
    }
    r->changed.cancel();
  }
};

}  // namespace

awaitable<std::size_t> first_to_end(std::span<const Task> tasks) {
  assert(!tasks.empty());
  const auto ex = co_await asio::this_coro::executor;
  const auto r = std::make_shared<Running>(ex, tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    auto ended = asio::bind_cancellation_slot(r->signals[i].slot(), TaskEnded{r, i});
    asio::co_spawn(ex, tasks[i](), std::move(ended));
  }
  // Once the caller is cancelled, any co_await of it would throw at once: the tasks could not be
  // waited for.
  const bool throws = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  // The timer wait takes no cancellation: the caller's goes straight to the tasks (as with `||`,
  // before anything else runs), and their ends wake the caller.
  const asio::cancellation_state caller = co_await asio::this_coro::cancellation_state;
  auto uncancellable = asio::bind_cancellation_slot(asio::cancellation_slot(), nothrow);
  // One thread: a task ends only while the caller waits, so no cancel() of the timer is missed.
  while (r->running > 0) {
    if (caller.cancelled() != asio::cancellation_type::none) {
      r->stop();
    }
    asio::cancellation_slot slot = caller.slot();
    if (slot.is_connected()) {
      slot.assign([r](asio::cancellation_type) { r->stop(); });  // cleared as the wait completes
    }
    co_await r->changed.async_wait(uncancellable);
  }
  co_await asio::this_coro::throw_if_cancelled(throws);
  if (!r->first) {
    std::rethrow_exception(r->failure);
  }
  co_return *r->first;
}

}  // namespace hc::transport
