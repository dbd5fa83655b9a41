/// A stream whose layer below is not there yet: every operation fails with would_block until
/// attach() gives it the stream it stands for. A TLS hop's session is made on it before the
/// tunnel to that hop exists (its first flight then rides with the previous hop's request,
/// TlsStream::first_flight), and its handshake goes on over the tunnel once attached.
#pragma once

#include <memory>

#include "transport/stream.hpp"

namespace hc::transport {

class DeferredStream final : public Stream {
 public:
  /// `bottom`: the socket under the tunnel-to-be, so that a deadline can abort it meanwhile.
  explicit DeferredStream(tcp::socket* bottom) : bottom_(bottom) {}

  /// From now on every operation goes to `inner`.
  void attach(std::unique_ptr<Stream> inner) { inner_ = std::move(inner); }

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override;
  awaitable<std::error_code> shutdown_send() override;
  void close() override;
  tcp::socket* bottom() override { return inner_ ? inner_->bottom() : bottom_; }
  std::size_t buffered() const override { return inner_ ? inner_->buffered() : 0; }
  RawIo* raw_io() override { return inner_ ? inner_->raw_io() : nullptr; }

 private:
  tcp::socket* bottom_;
  std::unique_ptr<Stream> inner_;
};

}  // namespace hc::transport
