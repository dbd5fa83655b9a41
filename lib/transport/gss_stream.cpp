#include "transport/gss_stream.hpp"

#include <algorithm>
#include <cstring>

#include "proto/gssapi_errors.hpp"

namespace hc::transport {
namespace {

/// Read size: one maximal message (65,535 bytes and its header) in at most a few reads,
/// without a buffer per idle connection bigger than the relay's own.
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

GssStream::GssStream(std::unique_ptr<Stream> inner, std::unique_ptr<proto::GssContext> context,
                     proto::Protection level)
    : inner_(std::move(inner)),
      context_(std::move(context)),
      level_(level),
      decapsulator_(*context_, level) {}

std::size_t GssStream::buffered() const {
  return plain_.size() - plain_offset_ + decapsulator_.pending() + inner_->buffered();
}

awaitable<std::error_code> GssStream::fill() {
  while (plain_offset_ == plain_.size()) {
    auto message = decapsulator_.next();
    if (!message) {
      failed_ = message.error();
      co_return failed_;
    }
    if (*message) {
      // An empty message is legal; it yields nothing and the loop reads on.
      plain_ = std::move(**message);
      plain_offset_ = 0;
      continue;
    }
    scratch_.resize(kReadChunk);
    auto [ec, n] = co_await inner_->read_some(scratch_);
    decapsulator_.feed(std::span<const std::uint8_t>(scratch_.data(), n));
    if (ec && n == 0) {
      if (ec == asio::error::eof && decapsulator_.pending() > 0) {
        failed_ = make_error_code(proto::GssapiError::truncated_message);
        co_return failed_;
      }
      co_return ec;
    }
  }
  co_return std::error_code{};
}

awaitable<IoResult> GssStream::read_some(std::span<std::uint8_t> buffer) {
  if (failed_) {
    co_return IoResult{failed_, 0};
  }
  if (buffer.empty()) {
    co_return IoResult{std::error_code{}, 0};
  }
  if (const std::error_code ec = co_await fill()) {
    co_return IoResult{ec, 0};
  }
  const std::size_t n = std::min(buffer.size(), plain_.size() - plain_offset_);
  std::memcpy(buffer.data(), plain_.data() + plain_offset_, n);
  plain_offset_ += n;
  co_return IoResult{std::error_code{}, n};
}

awaitable<IoResult> GssStream::write_all(std::span<const std::uint8_t> data) {
  auto wrapped = proto::gssapi::encapsulate(*context_, data, level_);
  if (!wrapped) {
    co_return IoResult{wrapped.error(), 0};
  }
  auto [ec, n] = co_await inner_->write_all(*wrapped);
  co_return IoResult{ec, ec ? 0 : data.size()};
}

}  // namespace hc::transport
