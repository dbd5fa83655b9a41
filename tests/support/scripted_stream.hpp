/// An in-memory Stream for tests: serves scripted bytes in reads of at most `chunk` bytes, then
/// EOF, and records everything written.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "transport/stream.hpp"

namespace hc::test {

class ScriptedStream final : public transport::Stream {
 public:
  ScriptedStream(std::vector<std::uint8_t> incoming, std::size_t chunk)
      : incoming_(std::move(incoming)), chunk_(chunk) {}

  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override {
    if (pos_ >= incoming_.size()) {
      co_return transport::IoResult{asio::error::eof, 0};
    }
    const std::size_t n = std::min({buffer.size(), chunk_, incoming_.size() - pos_});
    std::memcpy(buffer.data(), incoming_.data() + pos_, n);
    pos_ += n;
    ++reads_;
    co_return transport::IoResult{std::error_code{}, n};
  }
  awaitable<transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    written_.insert(written_.end(), data.begin(), data.end());
    ++writes_;
    co_return transport::IoResult{std::error_code{}, data.size()};
  }
  awaitable<std::error_code> shutdown_send() override {
    shut_down_ = true;
    co_return std::error_code{};
  }
  void close() override { closed_ = true; }
  tcp::socket* bottom() override { return nullptr; }

  const std::vector<std::uint8_t>& written() const { return written_; }
  std::size_t unread() const { return incoming_.size() - pos_; }
  std::size_t reads() const { return reads_; }
  std::size_t writes() const { return writes_; }
  bool shut_down() const { return shut_down_; }
  bool closed() const { return closed_; }

 private:
  std::vector<std::uint8_t> incoming_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
  std::size_t reads_ = 0;
  std::size_t writes_ = 0;
  std::vector<std::uint8_t> written_;
  bool shut_down_ = false;
  bool closed_ = false;
};

/// Runs a coroutine to completion on a private io_context and returns its result.
template <typename T>
T run_sync(awaitable<T> op) {
  asio::io_context io;
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) {
      result = std::move(value);
    }
  });
  io.run_for(std::chrono::seconds(10));
  if (error) {
    std::rethrow_exception(error);
  }
  if (!result) {
    throw std::runtime_error("coroutine did not finish");
  }
  return std::move(*result);
}

}  // namespace hc::test
