/// A stream whose layer below is not there yet: what is written goes into a buffer, and reads
/// fail with would_block, until attach() gives it the stream it stands for. It lets a TLS hop's
/// ClientHello be made before the tunnel to that hop exists, so the hello can ride in the same
/// write as the previous hop's request (it depends on nothing the reply says); the handshake then
/// goes on over the attached tunnel from where OpenSSL left it, waiting for the ServerHello.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "transport/stream.hpp"

namespace hc::transport {

class DeferredStream final : public Stream {
 public:
  /// `bottom`: the socket under the tunnel-to-be, so that a deadline can abort it meanwhile.
  explicit DeferredStream(tcp::socket* bottom) : bottom_(bottom) {}

  /// The bytes written before attach(), handed over once.
  std::vector<std::uint8_t> take_written() { return std::move(written_); }
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
  std::vector<std::uint8_t> written_;
};

}  // namespace hc::transport
