#include "chain/probe_set.hpp"

#include <exception>

#include "log/log.hpp"

namespace hc::chain {

ProbeSet::ProbeSet(asio::any_io_executor executor) : executor_(std::move(executor)) {}

void ProbeSet::spawn(awaitable<void> probe) {
  ++state_->in_flight;
  asio::co_spawn(executor_, std::move(probe), [state = state_](std::exception_ptr e) {
    if (e) {
      log::debug("probe: ended by an internal error");
    }
    if (--state->in_flight == 0 && state->waiter != nullptr) {
      state->waiter->cancel();
    }
  });
}

std::size_t ProbeSet::in_flight() const {
  return state_->in_flight;
}

awaitable<void> ProbeSet::wait(std::chrono::milliseconds bound) {
  if (state_->in_flight == 0) {
    co_return;
  }
  asio::steady_timer timer(executor_, bound);
  const std::shared_ptr<State> state = state_;
  state->waiter = &timer;
  co_await timer.async_wait(nothrow);
  state->waiter = nullptr;
}

}  // namespace hc::chain
