/// A wait for "the local side is readable, or we were told to stop waiting", without a parallel
/// group. Asio 1.22's awaitable `||` nested inside a branch of another group (the chain's reply
/// reader beside the user's bytes feeder, the relay's two directions) left a freed cancellation
/// handler in the waiting coroutine, seen by UBSan under load. Here the readiness wait is a
/// plain callback and the coroutine waits on a timer that only a cancel ends.
#pragma once

#include <memory>

#include "transport/stream.hpp"

namespace hc::transport {

class ReadinessWait {
 public:
  explicit ReadinessWait(const asio::any_io_executor& ex);

  /// Returns once `local` is readable or its wait failed (a regular file cannot be waited on,
  /// the stream closed: that error is returned), or wake() was called; at once if either
  /// happened since the last return. One waiter at a time.
  awaitable<std::error_code> readable_or_woken(RawIo& local);

  /// Ends the current wait and every later one: the waiter is done waiting.
  void wake();
  bool woken() const { return state_->woken; }

 private:
  /// Shared with the readiness callback, which may come after this object is gone.
  struct State {
    explicit State(const asio::any_io_executor& ex);
    asio::steady_timer never;  ///< expires never: only cancel() ends a wait on it
    bool woken = false;
    bool readable = false;  ///< readiness (or its failure) seen since the last return
    std::error_code failure;
    bool watching = false;  ///< a readiness callback is pending
  };
  std::shared_ptr<State> state_;
};

}  // namespace hc::transport
