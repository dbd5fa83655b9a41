#include "chain/refusal_body.hpp"

#include <array>
#include <vector>

#include "proto/http_refusal.hpp"
#include "transport/deadline.hpp"

namespace hc::chain {
namespace {

/// Appends to `body` until EOF, an error or the limit; the caller's buffer keeps what arrived
/// even when the deadline cuts this short.
awaitable<bool> read_body(transport::Stream& stream, std::vector<std::uint8_t>& body) {
  std::array<std::uint8_t, 1024> chunk{};
  while (body.size() < proto::kRefusalBodyLimit) {
    auto [ec, n] = co_await stream.read_some(chunk);
    if (ec) {
      break;
    }
    body.insert(body.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  co_return true;
}

}  // namespace

awaitable<std::string> refusal_words(transport::Stream& stream, const proto::Handshake& codec,
                                     std::string status_line, std::chrono::milliseconds wait) {
  const auto held = codec.leftover();
  std::vector<std::uint8_t> body(held.begin(), held.end());
  if (tcp::socket* bottom = stream.bottom();
      bottom != nullptr && body.size() < proto::kRefusalBodyLimit) {
    co_await transport::with_deadline(*bottom, wait, read_body(stream, body));
  }
  co_return proto::refusal_summary(body, status_line);
}

}  // namespace hc::chain
