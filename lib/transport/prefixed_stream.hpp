/// A stream with bytes that were read ahead: an HTTP proxy's 200 reply often arrives in the same
/// segment as the target's first bytes (an SSH banner). Those bytes are payload; reads return them
/// first.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "transport/stream.hpp"

namespace hc::transport {

class PrefixedStream final : public Stream {
 public:
  PrefixedStream(std::unique_ptr<Stream> inner, std::vector<std::uint8_t> prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override {
    return inner_->write_all(data);
  }
  awaitable<std::error_code> shutdown_send() override { return inner_->shutdown_send(); }
  void close() override { inner_->close(); }
  tcp::socket* bottom() override { return inner_->bottom(); }
  std::size_t buffered() const override { return prefix_.size() - offset_ + inner_->buffered(); }
  /// Only once the prefix has been read: splicing must not overtake it.
  RawIo* raw_io() override { return offset_ < prefix_.size() ? nullptr : inner_->raw_io(); }

 private:
  std::unique_ptr<Stream> inner_;
  std::vector<std::uint8_t> prefix_;
  std::size_t offset_ = 0;
};

}  // namespace hc::transport
