#include "app/http_client_stream.hpp"

#include <algorithm>

namespace hc::app {

HttpClientStream::HttpClientStream(transport::Stream& client, std::span<const std::uint8_t> prefix)
    : client_(client), prefix_(prefix.begin(), prefix.end()) {}

awaitable<transport::IoResult> HttpClientStream::read_some(std::span<std::uint8_t> buffer) {
  if (offset_ < prefix_.size()) {
    const std::size_t n = std::min(buffer.size(), prefix_.size() - offset_);
    std::copy_n(prefix_.begin() + static_cast<std::ptrdiff_t>(offset_), n, buffer.begin());
    offset_ += n;
    co_return transport::IoResult{std::error_code{}, n};
  }
  co_return co_await client_.read_some(buffer);
}

}  // namespace hc::app
