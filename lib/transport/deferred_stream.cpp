#include "transport/deferred_stream.hpp"

namespace hc::transport {

awaitable<IoResult> DeferredStream::read_some(std::span<std::uint8_t> buffer) {
  if (inner_) {
    co_return co_await inner_->read_some(buffer);
  }
  co_return IoResult{asio::error::would_block, 0};
}

awaitable<IoResult> DeferredStream::write_all(std::span<const std::uint8_t> data) {
  if (inner_) {
    co_return co_await inner_->write_all(data);
  }
  co_return IoResult{asio::error::would_block, 0};
}

awaitable<std::error_code> DeferredStream::shutdown_send() {
  if (inner_) {
    co_return co_await inner_->shutdown_send();
  }
  co_return asio::error::would_block;
}

void DeferredStream::close() {
  if (inner_) {
    inner_->close();
  }
}

}  // namespace hc::transport
