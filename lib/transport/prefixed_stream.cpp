#include "transport/prefixed_stream.hpp"

#include <algorithm>
#include <cstring>

namespace hc::transport {

awaitable<IoResult> PrefixedStream::read_some(std::span<std::uint8_t> buffer) {
  if (offset_ < prefix_.size()) {
    const std::size_t n = std::min(buffer.size(), prefix_.size() - offset_);
    std::memcpy(buffer.data(), prefix_.data() + offset_, n);
    offset_ += n;
    if (offset_ == prefix_.size()) {
      prefix_ = {};
      offset_ = 0;
    }
    co_return IoResult{std::error_code{}, n};
  }
  co_return co_await inner_->read_some(buffer);
}

}  // namespace hc::transport
