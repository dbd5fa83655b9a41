#include "app/linger_close.hpp"

#include <array>
#include <chrono>

#include "transport/deadline.hpp"

namespace hc::app {
namespace {

// After a refusal, how long and how much a client may still send before the close.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 64 * 1024;

awaitable<std::size_t> discard_input(transport::Stream& stream) {
  std::array<std::uint8_t, 4096> buffer{};
  std::size_t total = 0;
  while (total < kLingerBytes) {
    auto [ec, n] = co_await stream.read_some(buffer);
    if (ec) {
      break;
    }
    total += n;
  }
  co_return total;
}

}  // namespace

awaitable<void> close_after_answer(transport::Stream& stream) {
  co_await stream.shutdown_send();
  co_await transport::with_deadline(*stream.bottom(), kLingerTime, discard_input(stream));
  stream.close();
}

}  // namespace hc::app
