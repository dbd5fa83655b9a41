#include "transport/tls_sessions.hpp"

#include <cstdint>
#include <map>
#include <mutex>

namespace hc::transport {
namespace {

struct Store {
  std::mutex mutex;
  std::map<std::string, SSL_SESSION*> sessions;  ///< one reference each
};

Store& store() {
  static Store* s = new Store;  // never destroyed: sessions may arrive while the process exits
  return *s;
}

/// The ex_data slot of an SSL that holds its key (a std::string it owns).
int key_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* key, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(key);
      });
  return index;
}

/// OpenSSL's new-session callback: keeps the session (returning 1 takes over its reference).
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, key_index()));
  if (key == nullptr || SSL_SESSION_is_resumable(session) != 1) {
    return 0;
  }
  Store& s = store();
  const std::lock_guard lock(s.mutex);
  SSL_SESSION*& slot = s.sessions[*key];
  if (slot != nullptr) {
    SSL_SESSION_free(slot);
  }
  slot = session;
  return 1;
}

}  // namespace

void keep_client_sessions(SSL_CTX* context) {
  // No internal store: a client cache is looked up by the application, here offer_session.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(context, on_new_session);
}

void offer_session(SSL* ssl, const std::string& hop) {
  // The context too: a session made under insecure=1 must never spare a verifying context its
  // certificate check.
  const std::string key =
      hop + " " + std::to_string(reinterpret_cast<std::uintptr_t>(SSL_get_SSL_CTX(ssl)));
  SSL_set_ex_data(ssl, key_index(), new std::string(key));
  Store& s = store();
  const std::lock_guard lock(s.mutex);
  const auto it = s.sessions.find(key);
  if (it != s.sessions.end()) {
    SSL_set_session(ssl, it->second);  // takes its own reference
  }
}

}  // namespace hc::transport
