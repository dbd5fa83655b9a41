/// The SOCKS5 GSS-API protection layer (RFC 1961 section 5) as a stream, like TLS: once a hop
/// or a client negotiated integrity or confidentiality, everything after the negotiation through
/// that connection (the SOCKS request, later hops' handshakes, the user's data) travels as
/// encapsulated messages, each gss_wrap'ed within the mechanism's size limit. It sits on "the
/// stream so far", so GSS-API and TLS layers stack in any order.
///
/// RFC 1961 has no closing message: shutdown_send passes the FIN (or the enclosing layer's
/// close) down, and the peer's EOF between messages is the end of the stream. An EOF inside a
/// message, or a message that fails to unwrap (altered, replayed, reordered), is an error; the
/// stream then stays failed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "proto/gssapi_context.hpp"
#include "proto/socks5_gssapi.hpp"
#include "transport/stream.hpp"

namespace hc::transport {

class GssStream final : public Stream {
 public:
  /// `level` is integrity or confidentiality (with none there is no layer at all).
  GssStream(std::unique_ptr<Stream> inner, std::unique_ptr<proto::GssContext> context,
            proto::Protection level);

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override;
  awaitable<std::error_code> shutdown_send() override { return inner_->shutdown_send(); }
  void close() override { inner_->close(); }
  tcp::socket* bottom() override { return inner_->bottom(); }
  /// Plaintext unwrapped and not yet read, and what waits to be unwrapped; no splice can start
  /// above this layer (raw_io() is null).
  std::size_t buffered() const override;

 private:
  /// The next message's plaintext into plain_, reading from inner_ as needed.
  awaitable<std::error_code> fill();

  std::unique_ptr<Stream> inner_;
  std::unique_ptr<proto::GssContext> context_;
  proto::Protection level_;
  proto::gssapi::Decapsulator decapsulator_;
  std::vector<std::uint8_t> plain_;  ///< the last message's plaintext
  std::size_t plain_offset_ = 0;     ///< how much of it was read
  std::vector<std::uint8_t> scratch_;
  std::error_code failed_;  ///< a broken message: every later read fails with it
};

}  // namespace hc::transport
