// TlsStream's first flight made ahead of the handshake: the ClientHello that rides with the
// previous hop's request, and TLS 1.3 early data.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "transport/tls_stream.hpp"

namespace hc::transport {

/// OpenSSL writes into a memory BIO swapped in for asio's BIO pair: asio's engine only passes on
/// output that appears during its own operations, so bytes written outside them would stay in
/// the pair unsent. The pair's BIO is put back before asio's handshake goes on.
TlsStream::FirstFlight TlsStream::first_flight(std::span<const std::uint8_t> early) {
  FirstFlight out;
  SSL* ssl = ssl_.native_handle();
  BIO* engine_bio = SSL_get_wbio(ssl);
  BIO* memory = BIO_new(BIO_s_mem());
  if (memory == nullptr || BIO_up_ref(engine_bio) != 1) {
    BIO_free(memory);
    out.ec = TlsErrc::setup_failed;
    return out;
  }
  SSL_set0_wbio(ssl, memory);  // drops the SSL's reference to engine_bio; ours keeps it
  SSL_set_connect_state(ssl);
  ERR_clear_error();
  if (!early.empty() && early_data_allowed() >= early.size()) {
    std::size_t written = 0;
    out.early_sent = SSL_write_early_data(ssl, early.data(), early.size(), &written) == 1 &&
                     written == early.size();
  }
  if (!out.early_sent) {
    // Writes the ClientHello, then stops for want of the ServerHello.
    const int result = SSL_do_handshake(ssl);
    if (SSL_get_error(ssl, result) != SSL_ERROR_WANT_READ) {
      out.ec = TlsErrc::setup_failed;
    }
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(memory, &data);
  if (size > 0) {
    out.bytes.assign(data, data + size);
  }
  SSL_set0_wbio(ssl, engine_bio);  // hands our reference back; frees `memory`
  ERR_clear_error();
  if (out.bytes.empty() && !out.ec) {
    out.ec = TlsErrc::setup_failed;
  }
  return out;
}

std::size_t TlsStream::early_data_allowed() {
  const SSL_SESSION* session = SSL_get0_session(ssl_.native_handle());
  return session != nullptr ? SSL_SESSION_get_max_early_data(session) : 0;
}

bool TlsStream::early_data_accepted() {
  return SSL_get_early_data_status(ssl_.native_handle()) == SSL_EARLY_DATA_ACCEPTED;
}

}  // namespace hc::transport
