#include "transport/tls_stream.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "transport/tls_sessions.hpp"

namespace hc::transport {
namespace {

class TlsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int ev) const override {
    switch (static_cast<TlsErrc>(ev)) {
      case TlsErrc::certificate_verify_failed:
        return "certificate verify failed";
      case TlsErrc::setup_failed:
        return "cannot set up TLS";
    }
    return "unknown TLS error";
  }
};

/// A precise "No such file or directory" before OpenSSL's vaguer "system lib".
bool readable(const std::string& path, const char* what, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fclose(f);
  return true;
}

bool mentions(const std::string& path, const std::string& word) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.find(word) != std::string::npos;
}

/// Sends close_notify without waiting for the peer's. Asio's shutdown calls SSL_shutdown a second
/// time when the first one did not see the peer's close_notify, and that second call reads (and
/// discards) application data until the peer closes: a hang, and lost data on a half-closed
/// tunnel. Marking the peer's close_notify as received for the duration of the synchronous part
/// makes SSL_shutdown return 1 after queueing our alert; Asio then only writes it out. The flag
/// is restored at once, so reading continues (OpenSSL reads after sending close_notify).
struct SendCloseNotify {
  asio::ssl::stream<StreamAdapter>* ssl;
  template <typename Handler>
  void operator()(Handler&& handler) const {
    SSL* native = ssl->native_handle();
    const int before = SSL_get_shutdown(native);
    SSL_set_shutdown(native, before | SSL_RECEIVED_SHUTDOWN);
    // The first SSL_shutdown runs inside this initiating call; only the write is asynchronous.
    ssl->async_shutdown(std::forward<Handler>(handler));
    SSL_set_shutdown(native, (SSL_get_shutdown(native) & ~SSL_RECEIVED_SHUTDOWN) |
                                 (before & SSL_RECEIVED_SHUTDOWN));
  }
};

}  // namespace

const std::error_category& tls_category() {
  static const TlsCategory c;
  return c;
}

std::error_code make_error_code(TlsErrc e) {
  return {static_cast<int>(e), tls_category()};
}

bool is_tls_error(const std::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == asio::ssl::error::get_stream_category() ||
         ec.category() == tls_category();
}

Result<std::unique_ptr<asio::ssl::context>> make_client_context(const TlsClientSettings& settings) {
  std::string error;
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // What a session must not cross; paths, never credentials (the file holds these keys).
  keep_client_sessions(native, (settings.insecure ? "insecure" : "verify=" + settings.cafile) +
                                   " cert=" + settings.cert);
  std::error_code ec;
  // An encrypted key would make OpenSSL prompt on the terminal, in the middle of a stdio
  // tunnel: answer with an empty passphrase so that loading fails instead.
  context->set_password_callback(
      [](std::size_t, asio::ssl::context::password_purpose) { return std::string(); }, ec);

  if (settings.insecure) {
    context->set_verify_mode(asio::ssl::verify_none, ec);
  } else {
    context->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!settings.cafile.empty()) {
      if (!readable(settings.cafile, "CA file", error)) {
        return failure(std::move(error));
      }
      context->load_verify_file(settings.cafile, ec);
      if (ec) {
        error = "cannot load CA file " + settings.cafile + ": " + ec.message();
        return failure(std::move(error));
      }
    } else {
      context->set_default_verify_paths(ec);
      if (ec) {
        error = "cannot load the system CA store: " + ec.message();
        return failure(std::move(error));
      }
    }
  }

  if (!settings.cert.empty()) {
    if (!readable(settings.cert, "client certificate", error) ||
        !readable(settings.key, "client key", error)) {
      return failure(std::move(error));
    }
    context->use_certificate_chain_file(settings.cert, ec);
    if (ec) {
      error = "cannot load client certificate " + settings.cert + ": " + ec.message();
      return failure(std::move(error));
    }
    context->use_private_key_file(settings.key, asio::ssl::context::pem, ec);
    if (ec) {
      error = "cannot load client key " + settings.key + ": " + ec.message();
      if (mentions(settings.key, "ENCRYPTED")) {
        error += " (encrypted keys are not supported)";
      }
      return failure(std::move(error));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      error = "client key " + settings.key + " does not match certificate " + settings.cert;
      return failure(std::move(error));
    }
  }
  return context;
}

TlsStream::TlsStream(std::unique_ptr<Stream> inner, asio::ssl::context& context,
                     asio::any_io_executor executor)
    : ssl_(StreamAdapter(std::move(inner), std::move(executor)), context) {}

TlsHandshakeResult TlsStream::set_peer(const std::string& name, const std::string& resume_key) {
  SSL* ssl = ssl_.native_handle();
  std::error_code not_ip;
  (void)asio::ip::make_address(name, not_ip);
  const bool is_ip = !not_ip;
  const bool verify = SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE;
  // RFC 6066 §3: SNI carries DNS names only.
  bool ok = is_ip || SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
  if (ok && verify) {
    if (is_ip) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    } else {
      // OpenSSL's own check (not a verify callback) so that a mismatch has a verify result and
      // can be reported as "hostname mismatch".
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl, name.c_str()) == 1;
    }
  }
  if (!ok) {
    return TlsHandshakeResult{TlsErrc::setup_failed, "cannot use the name " + name};
  }
  if (!resume_key.empty()) {
    offer_session(ssl, resume_key + " " + name);
  }
  return {};
}

awaitable<TlsHandshakeResult> TlsStream::handshake(std::string name, std::string resume_key) {
  TlsHandshakeResult named = set_peer(name, resume_key);
  if (named.ec) {
    co_return named;
  }
  co_return co_await handshake();
}

awaitable<TlsHandshakeResult> TlsStream::handshake() {
  SSL* ssl = ssl_.native_handle();
  auto [ec] = co_await ssl_.async_handshake(asio::ssl::stream_base::client, nothrow);
  if (!ec) {
    co_return TlsHandshakeResult{};
  }
  const long verify_result = SSL_get_verify_result(ssl);
  if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE && verify_result != X509_V_OK) {
    co_return TlsHandshakeResult{TlsErrc::certificate_verify_failed,
                                 X509_verify_cert_error_string(verify_result)};
  }
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    co_return TlsHandshakeResult{ec, "connection closed during the handshake (not a TLS server?)"};
  }
  co_return TlsHandshakeResult{ec, {}};
}

std::string TlsStream::describe() {
  SSL* ssl = ssl_.native_handle();
  std::string out = SSL_get_version(ssl);
  out += " ";
  out += SSL_get_cipher_name(ssl);
  if (X509* peer = SSL_get0_peer_certificate(ssl)) {
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
    out += ", certificate ";
    out += subject;
  }
  out += SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE ? " NOT verified" : " verified";
  if (SSL_session_reused(ssl) == 1) {
    out += ", resumed";
  }
  return out;
}

awaitable<IoResult> TlsStream::read_some(std::span<std::uint8_t> buffer) {
  auto [ec, n] = co_await ssl_.async_read_some(asio::buffer(buffer.data(), buffer.size()), nothrow);
  if (ec == asio::ssl::error::stream_truncated) {
    // The transport ended without close_notify. Proxies and TLS terminators commonly close that
    // way; the relay treats it as the end of the stream like a TCP FIN.
    ec = asio::error::eof;
  }
  co_return IoResult{ec, n};
}

awaitable<IoResult> TlsStream::write_all(std::span<const std::uint8_t> data) {
  auto [ec, n] = co_await asio::async_write(ssl_, asio::buffer(data.data(), data.size()), nothrow);
  co_return IoResult{ec, n};
}

awaitable<std::error_code> TlsStream::shutdown_send() {
  if (close_notify_sent_) {
    co_return std::error_code{};
  }
  close_notify_sent_ = true;
  auto [ec] = co_await asio::async_initiate<decltype(nothrow), void(std::error_code)>(
      SendCloseNotify{&ssl_}, nothrow);
  // Then the layer below: a FIN, or the enclosing session's close_notify.
  const std::error_code below = co_await ssl_.next_layer().inner().shutdown_send();
  co_return ec ? ec : below;
}

void TlsStream::close() {
  ssl_.next_layer().inner().close();
}

tcp::socket* TlsStream::bottom() {
  return ssl_.next_layer().inner().bottom();
}

}  // namespace hc::transport
