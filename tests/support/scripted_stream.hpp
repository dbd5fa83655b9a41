/// An in-memory Stream for tests: serves scripted bytes in reads of at most `chunk` bytes, then
/// EOF, and records everything written. A fault can be planted on the Nth read_some or write_all
/// call (counting from 0): that call fails with the chosen error, and so does every read and
/// write after it, as on a connection that broke.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "transport/stream.hpp"

namespace hc::test {

class ScriptedStream final : public transport::Stream {
 public:
  enum class Op { read, write };
  /// The `index`th call of `op` fails with `ec`; connection_reset, broken_pipe and timed_out
  /// (what a deadline leaves behind) are the errors a real peer produces.
  struct Fault {
    Op op;
    std::size_t index;
    std::error_code ec;
  };

  ScriptedStream(std::vector<std::uint8_t> incoming, std::size_t chunk,
                 std::optional<Fault> fault = std::nullopt)
      : incoming_(std::move(incoming)), chunk_(chunk), fault_(fault) {}

  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override {
    if (auto ec = fault_for(Op::read, read_calls_++)) {
      co_return transport::IoResult{ec, 0};
    }
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
    if (auto ec = fault_for(Op::write, write_calls_++)) {
      co_return transport::IoResult{ec, 0};
    }
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
  /// Whether the planted fault has fired.
  bool faulted() const { return broken_.has_value(); }
  /// read_some and write_all calls, failed ones included.
  std::size_t read_calls() const { return read_calls_; }
  std::size_t write_calls() const { return write_calls_; }

 private:
  std::error_code fault_for(Op op, std::size_t index) {
    if (!broken_ && fault_ && fault_->op == op && fault_->index == index) {
      broken_ = fault_->ec;
    }
    return broken_.value_or(std::error_code{});
  }

  std::vector<std::uint8_t> incoming_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
  std::size_t reads_ = 0;
  std::size_t writes_ = 0;
  std::vector<std::uint8_t> written_;
  bool shut_down_ = false;
  bool closed_ = false;
  std::optional<Fault> fault_;
  std::optional<std::error_code> broken_;  // once set, every later call fails with it too
  std::size_t read_calls_ = 0;
  std::size_t write_calls_ = 0;
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
