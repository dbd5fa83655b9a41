/// Standard input and output as one stream: reads come from fd 0, writes go to fd 1, and
/// shutdown_send closes fd 1 so the reader of our output sees EOF (ssh's ProxyCommand does).
#pragma once

#include "transport/stream.hpp"

namespace hc::transport {

class StdioStream final : public Stream, private RawIo {
 public:
  explicit StdioStream(const asio::any_io_executor& ex);
  ~StdioStream() override;

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override;
  awaitable<std::error_code> shutdown_send() override;
  void close() override;
  tcp::socket* bottom() override { return nullptr; }
  RawIo* raw_io() override { return this; }

 private:
  int read_fd() override { return in_.native_handle(); }
  int write_fd() override { return out_.native_handle(); }
  awaitable<std::error_code> wait_readable() override;
  awaitable<std::error_code> wait_writable() override;
  void notify_readable(ReadyCallback ready) override {
    in_.async_wait(asio::posix::descriptor_base::wait_read, std::move(ready));
  }

  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
};

}  // namespace hc::transport
