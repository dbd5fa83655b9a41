/// A byte stream the chain is built over and the relay runs on: plain TCP at the bottom, then
/// whatever layers hops add (a TLS session inside the tunnel so far, a prefix of bytes that came
/// glued to a reply). All operations are non-throwing; EOF, reset and abort are ordinary results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <system_error>
#include <tuple>

#include "transport/asio.hpp"

namespace hc::transport {

using IoResult = std::tuple<std::error_code, std::size_t>;

/// Kernel-level access for the zero-copy relay: the descriptors under a stream that has no
/// user-space layer (no TLS), and waits for their readiness.
class RawIo {
 public:
  virtual ~RawIo() = default;
  virtual int read_fd() = 0;
  virtual int write_fd() = 0;
  virtual awaitable<std::error_code> wait_readable() = 0;
  virtual awaitable<std::error_code> wait_writable() = 0;
  /// Calls `ready` once the read side is readable, or with an error (operation_aborted when the
  /// stream closes first). A plain callback: it lets a coroutine wait for "readable, or something
  /// else" without a parallel group (transport/readiness_wait.hpp).
  using ReadyCallback = std::function<void(std::error_code)>;
  virtual void notify_readable(ReadyCallback ready) = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;

  /// Reads at least one byte, or returns an error (asio::error::eof at end of stream).
  virtual awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) = 0;
  /// Writes all of `data` or returns an error.
  virtual awaitable<IoResult> write_all(std::span<const std::uint8_t> data) = 0;
  /// Signals end of our data (TCP FIN); reading continues.
  virtual awaitable<std::error_code> shutdown_send() = 0;
  /// Abortive close of every layer; pending operations complete with an error.
  virtual void close() = 0;
  /// The TCP socket under every layer, if any; a deadline closes it to abort whatever is pending.
  virtual tcp::socket* bottom() = 0;
  /// Bytes already received and buffered above the socket (they must be relayed first).
  virtual std::size_t buffered() const { return 0; }
  /// Raw descriptors for splice(2), or nullptr when a user-space layer (TLS) sits on top.
  virtual RawIo* raw_io() { return nullptr; }

  awaitable<IoResult> read_exactly(std::span<std::uint8_t> buffer);
};

/// Plain TCP.
class TcpStream final : public Stream, private RawIo {
 public:
  explicit TcpStream(tcp::socket socket) : socket_(std::move(socket)) {}

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override;
  awaitable<std::error_code> shutdown_send() override;
  void close() override;
  tcp::socket* bottom() override { return &socket_; }
  RawIo* raw_io() override { return this; }

 private:
  int read_fd() override { return socket_.native_handle(); }
  int write_fd() override { return socket_.native_handle(); }
  awaitable<std::error_code> wait_readable() override;
  awaitable<std::error_code> wait_writable() override;
  void notify_readable(ReadyCallback ready) override {
    socket_.async_wait(tcp::socket::wait_read, std::move(ready));
  }

  tcp::socket socket_;
};

}  // namespace hc::transport
