/// The HTTP proxy client's side of a CONNECT tunnel, as the relay reads it: first what came
/// after the CONNECT head (the client may send its first bytes without waiting for the 200),
/// then the client's socket.
#pragma once

#include <cstdint>
#include <vector>

#include "transport/stream.hpp"

namespace hc::app {

class HttpClientStream final : public transport::Stream {
 public:
  HttpClientStream(transport::Stream& client, std::span<const std::uint8_t> prefix);

  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    return client_.write_all(data);
  }
  awaitable<std::error_code> shutdown_send() override { return client_.shutdown_send(); }
  void close() override { client_.close(); }
  tcp::socket* bottom() override { return client_.bottom(); }
  std::size_t buffered() const override { return prefix_.size() - offset_; }
  /// Splicing once the prefix is out.
  transport::RawIo* raw_io() override {
    return offset_ < prefix_.size() ? nullptr : client_.raw_io();
  }

 private:
  transport::Stream& client_;
  std::vector<std::uint8_t> prefix_;
  std::size_t offset_ = 0;
};

}  // namespace hc::app
