/// The pipelining probes an event loop started (chain/probe.hpp), owned instead of left running
/// on their own: whoever ends the loop can wait for them, with a bound (stdio mode grants a
/// prompt hop's verdict a few milliseconds, then abandons the rest with no verdict recorded).
/// One per event loop; not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "transport/asio.hpp"

namespace hc::chain {

class ProbeSet {
 public:
  explicit ProbeSet(asio::any_io_executor executor);

  /// Runs `probe` on the loop; it is in flight until it ends.
  void spawn(awaitable<void> probe);
  std::size_t in_flight() const;
  /// Until no probe is in flight or `bound` has passed, whichever comes first.
  awaitable<void> wait(std::chrono::milliseconds bound);

 private:
  struct State {
    std::size_t in_flight = 0;
    asio::steady_timer* waiter = nullptr;  ///< the pending wait(), woken by the last probe
  };
  asio::any_io_executor executor_;
  std::shared_ptr<State> state_ = std::make_shared<State>();  ///< outlives abandoned probes
};

}  // namespace hc::chain
