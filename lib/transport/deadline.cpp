#include "transport/deadline.hpp"

namespace hc::transport {

void arm_watchdog(asio::steady_timer& timer, const std::shared_ptr<Watchdog>& watchdog,
                  std::chrono::steady_clock::duration timeout) {
  timer.expires_after(timeout);
  timer.async_wait([watchdog](std::error_code ec) {
    if (ec || watchdog->bottom == nullptr) {
      return;
    }
    watchdog->fired = true;
    std::error_code ignored;
    watchdog->bottom->close(ignored);
  });
}

}  // namespace hc::transport
