#include "transport/deadline.hpp"

namespace hc::transport {

awaitable<void> close_after(tcp::socket& bottom, std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto [ec] = co_await timer.async_wait(nothrow);
  if (!ec) {
    std::error_code ignored;
    bottom.close(ignored);
  }
}

}  // namespace hc::transport
