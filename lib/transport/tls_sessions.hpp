/// TLS session resumption for TLS hops: the session (TLS 1.3 ticket) a hop's server gave is kept
/// for the process lifetime, keyed by the hop's address and name, and offered on the next
/// handshake with that hop, which then skips the certificate exchange and its signatures. A
/// server that does not resume simply does a full handshake, and its new session replaces the
/// old one. Thread-safe: forward mode's event loops share the store. A stdio run (one process per
/// connection) loads the store from a cache file at start and saves it at exit.
#pragma once

#include <string>

#include <openssl/ssl.h>

namespace hc::transport {

/// Has `context` hand every new client session to the store (contexts are shared by hops with
/// the same TLS settings; the key set by offer_session tells the hops apart). `settings` names
/// the settings a session must not cross (verification, CA file, client certificate): it goes
/// into every key of the context.
void keep_client_sessions(SSL_CTX* context, const std::string& settings);

/// Before the handshake of `ssl`: marks it as the connection to `hop` ("host:port name") under
/// its context, so a session it receives is kept for both, and offers the one kept, if any.
void offer_session(SSL* ssl, const std::string& hop);

/// Adds the unexpired sessions of the cache file `path` to the store. A file that is not
/// regular, too big, not the user's own or open to others is ignored: `why` says why (empty when
/// the file is absent or was used).
void load_sessions(const std::string& path, std::string& why);

/// The store's unexpired sessions in the cache file's text form (at most the cap, latest kept).
std::string render_sessions();

}  // namespace hc::transport
