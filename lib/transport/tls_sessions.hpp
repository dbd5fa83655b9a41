/// TLS session resumption for TLS hops: the session (TLS 1.3 ticket) a hop's server gave is kept
/// for the process lifetime, keyed by the hop's address and name, and offered on the next
/// handshake with that hop, which then skips the certificate exchange and its signatures. A
/// server that does not resume simply does a full handshake, and its new session replaces the
/// old one. Thread-safe: forward mode's event loops share the store.
#pragma once

#include <string>

#include <openssl/ssl.h>

namespace hc::transport {

/// Has `context` hand every new client session to the store (contexts are shared by hops with
/// the same TLS settings; the key set by offer_session tells the hops apart).
void keep_client_sessions(SSL_CTX* context);

/// Before the handshake of `ssl`: marks it as the connection to `hop` ("host:port name") under
/// its context, so a session it receives is kept for both, and offers the one kept, if any.
void offer_session(SSL* ssl, const std::string& hop);

}  // namespace hc::transport
