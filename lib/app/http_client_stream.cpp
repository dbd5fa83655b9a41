#include "app/http_client_stream.hpp"

#include <algorithm>
#include <array>

namespace hc::app {

HttpClientStream::HttpClientStream(transport::Stream& client, std::span<const std::uint8_t> prefix)
    : client_(client), prefix_(prefix.begin(), prefix.end()) {}

HttpClientStream::HttpClientStream(transport::Stream& client,
                                   const proto::HttpProxyRequest& request,
                                   std::span<const std::uint8_t> leftover)
    : client_(client),
      prefix_(request.forward_head),
      bounded_(true),
      body_(request.body),
      remaining_(request.content_length) {
  const std::size_t body = take_body(leftover);
  prefix_.insert(prefix_.end(), leftover.begin(),
                 leftover.begin() + static_cast<std::ptrdiff_t>(body));
}

std::size_t HttpClientStream::take_body(std::span<const std::uint8_t> data) {
  switch (body_) {
    case proto::HttpBodyKind::none:
      return 0;
    case proto::HttpBodyKind::length: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      remaining_ -= n;
      return n;
    }
    case proto::HttpBodyKind::chunked:
      return chunked_.feed(data);
  }
  return 0;
}

awaitable<transport::IoResult> HttpClientStream::read_some(std::span<std::uint8_t> buffer) {
  if (offset_ < prefix_.size()) {
    const std::size_t n = std::min(buffer.size(), prefix_.size() - offset_);
    std::copy_n(prefix_.begin() + static_cast<std::ptrdiff_t>(offset_), n, buffer.begin());
    offset_ += n;
    co_return transport::IoResult{std::error_code{}, n};
  }
  if (!bounded_) {
    co_return co_await client_.read_some(buffer);
  }
  const bool body_left = (body_ == proto::HttpBodyKind::length && remaining_ > 0) ||
                         (body_ == proto::HttpBodyKind::chunked && !chunked_.done());
  if (!body_left) {
    co_return co_await drain();
  }
  if (body_ == proto::HttpBodyKind::length) {
    buffer =
        buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffer.size())));
  }
  auto [ec, n] = co_await client_.read_some(buffer);
  if (ec) {
    co_return transport::IoResult{ec, 0};
  }
  const std::size_t body = take_body(buffer.first(n));
  if (chunked_.failed()) {
    co_return transport::IoResult{std::make_error_code(std::errc::protocol_error), 0};
  }
  if (body == 0) {
    co_return co_await drain();  // everything read was pipelined past the body
  }
  co_return transport::IoResult{std::error_code{}, body};
}

/// The request is complete: waits for the client's end while the response flows, dropping
/// pipelined requests. EOF then ends the upstream direction as usual.
awaitable<transport::IoResult> HttpClientStream::drain() {
  std::array<std::uint8_t, 4096> scratch{};
  for (;;) {
    auto [ec, n] = co_await client_.read_some(scratch);
    if (ec) {
      co_return transport::IoResult{ec, 0};
    }
  }
}

}  // namespace hc::app
