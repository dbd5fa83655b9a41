/// A TLS client session over any Stream: hop k's TLS runs inside the tunnel through hops 1..k-1,
/// which may itself be TLS. Holds asio::ssl::stream<StreamAdapter>; bottom() is the TCP socket
/// under every layer, so with_deadline aborts a handshake at any depth by closing it.
///
/// Half-close as far as TLS allows: shutdown_send sends close_notify (and then shuts the layer
/// below) without waiting for the peer's close_notify, and reading continues. A peer that closes
/// its transport without close_notify (stream_truncated) reads as EOF: proxies commonly do that.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ssl.hpp>

#include "base/result.hpp"
#include "transport/stream.hpp"
#include "transport/stream_adapter.hpp"

namespace hc::transport {

/// Failures of hopchain's TLS layer (OpenSSL's own errors keep asio's ssl category).
enum class TlsErrc {
  certificate_verify_failed = 1,  ///< the peer's certificate was rejected; detail says why
  setup_failed,                   ///< a context could not be built (CA file, client key)
};
const std::error_category& tls_category();
std::error_code make_error_code(TlsErrc e);

/// True when `ec` comes from the TLS layer (OpenSSL, asio's SSL stream errors, TlsErrc).
bool is_tls_error(const std::error_code& ec);

/// Client settings that go into an ssl::context (per-connection names are set per session).
struct TlsClientSettings {
  std::string cafile;  ///< empty: the system store
  std::string cert;    ///< with key; empty: no client certificate
  std::string key;
  bool insecure = false;
};

/// Builds a client context: TLS 1.2 or later, peer verification unless insecure, the CA file or
/// the system store, the client certificate and key. The error reads "cannot read CA file /x: No
/// such file or directory".
Result<std::unique_ptr<asio::ssl::context>> make_client_context(const TlsClientSettings& settings);

struct TlsHandshakeResult {
  std::error_code ec;
  std::string detail;  ///< OpenSSL's verify reason ("certificate has expired") when rejected
};

class TlsStream final : public Stream {
 public:
  /// `context` must outlive the stream.
  TlsStream(std::unique_ptr<Stream> inner, asio::ssl::context& context,
            asio::any_io_executor executor);

  /// Client handshake. `name` is sent as SNI (unless an IP literal) and, when the context
  /// verifies, must match the certificate (DNS name, or IP address for a literal).
  /// `resume_key` (the hop's "host:port"), when set: a session kept from an earlier handshake
  /// with it is offered, and the one this handshake gets is kept (transport/tls_sessions.hpp).
  awaitable<TlsHandshakeResult> handshake(std::string name, std::string resume_key = {});
  /// The two halves of the above: the name and the session to offer, then the handshake from
  /// where it stands. Run again after a DeferredStream below failed it with would_block (the
  /// ClientHello written, the ServerHello not readable yet), it goes on waiting for the
  /// ServerHello over the attached stream: asio's SSL stream leaves OpenSSL's state as it was.
  TlsHandshakeResult set_peer(const std::string& name, const std::string& resume_key);
  awaitable<TlsHandshakeResult> handshake();

  /// The client's first flight, made without writing it: the ClientHello, followed by `early`
  /// as TLS 1.3 early data when the offered session allows that much (`early_sent`). After
  /// set_peer, before handshake(), which then goes on from there over the layer below.
  struct FirstFlight {
    std::error_code ec;
    std::vector<std::uint8_t> bytes;
    bool early_sent = false;
  };
  FirstFlight first_flight(std::span<const std::uint8_t> early);
  /// How many bytes of early data the offered session allows (0: none, or no session).
  std::size_t early_data_allowed();
  /// After the handshake: the server took the early data (else it was dropped, unread).
  bool early_data_accepted();
  /// "TLSv1.3 TLS_AES_256_GCM_SHA384, certificate CN=proxy verified", then ", resumed" when
  /// the session was resumed: for -v logs.
  std::string describe();

  awaitable<IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<IoResult> write_all(std::span<const std::uint8_t> data) override;
  awaitable<std::error_code> shutdown_send() override;
  void close() override;
  tcp::socket* bottom() override;
  // buffered() stays 0: bytes held by OpenSSL are read through read_some like any other, and no
  // splice can start above a TLS layer (raw_io() is null) to overtake them.

 private:
  asio::ssl::stream<StreamAdapter> ssl_;
  bool close_notify_sent_ = false;
};

}  // namespace hc::transport

template <>
struct std::is_error_code_enum<hc::transport::TlsErrc> : std::true_type {};
