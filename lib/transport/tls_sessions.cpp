#include "transport/tls_sessions.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "transport/tls_session_file.hpp"

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

/// Keeps `session` (taking over its reference) under `key`, replacing any older one.
void keep(const std::string& key, SSL_SESSION* session) {
  Store& s = store();
  const std::lock_guard lock(s.mutex);
  SSL_SESSION*& slot = s.sessions[key];
  if (slot != nullptr) {
    SSL_SESSION_free(slot);
  }
  slot = session;
}

/// A std::string owned by ex_data: freed with its SSL or SSL_CTX.
void free_string(void*, void* text, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(text);
}

/// The ex_data slot of an SSL that holds its key.
int key_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_string);
  return index;
}

/// The ex_data slot of an SSL_CTX that holds its settings.
int settings_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_string);
  return index;
}

/// OpenSSL's new-session callback: keeps the session (returning 1 takes over its reference).
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, key_index()));
  if (key == nullptr || SSL_SESSION_is_resumable(session) != 1) {
    return 0;
  }
  keep(*key, session);
  return 1;
}

/// When `session` stops being worth offering: its timeout, or the server's ticket lifetime if
/// shorter.
std::int64_t expiry_of(const SSL_SESSION* session) {
  const std::int64_t start = SSL_SESSION_get_time(session);
  std::int64_t lifetime = SSL_SESSION_get_timeout(session);
  const unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(session);
  if (hint > 0 && static_cast<std::int64_t>(hint) < lifetime) {
    lifetime = static_cast<std::int64_t>(hint);
  }
  return start + lifetime;
}

/// The text of the file at `path`, or nullopt (with `why` set if it exists but is not trusted).
std::optional<std::string> read_trusted(const std::string& path, std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    why = errno == ENOENT ? "" : "cannot open it: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  std::optional<std::string> text;
  if (::fstat(fd, &st) != 0) {
    why = "cannot stat it";
  } else if (auto unsafe = unsafe_session_file(st.st_uid, st.st_mode, ::geteuid())) {
    why = *unsafe;
  } else if (static_cast<std::size_t>(st.st_size) > kMaxSessionFileBytes) {
    why = "bigger than 1 MiB";
  } else {
    text.emplace(static_cast<std::size_t>(st.st_size), '\0');
    const ssize_t got = ::read(fd, text->data(), text->size());
    text->resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  }
  ::close(fd);
  return text;
}

}  // namespace

void keep_client_sessions(SSL_CTX* context, const std::string& settings) {
  // No internal store: a client cache is looked up by the application, here offer_session.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(context, on_new_session);
  SSL_CTX_set_ex_data(context, settings_index(), new std::string(settings));
}

void offer_session(SSL* ssl, const std::string& hop) {
  // The settings too: a session made under insecure=1 must never spare a verifying context its
  // certificate check.
  const auto* settings =
      static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), settings_index()));
  const std::string key = hop + " " + (settings != nullptr ? *settings : "?");
  SSL_set_ex_data(ssl, key_index(), new std::string(key));
  Store& s = store();
  const std::lock_guard lock(s.mutex);
  const auto it = s.sessions.find(key);
  if (it != s.sessions.end()) {
    SSL_set_session(ssl, it->second);  // takes its own reference
  }
}

void load_sessions(const std::string& path, std::string& why) {
  why.clear();
  const auto text = read_trusted(path, why);
  if (!text) {
    return;
  }
  for (const auto& line : parse_session_lines(*text, std::time(nullptr))) {
    const auto* der = reinterpret_cast<const unsigned char*>(line.der.data());
    SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &der, static_cast<long>(line.der.size()));
    if (session == nullptr) {
      continue;
    }
    if (SSL_SESSION_is_resumable(session) == 1 && expiry_of(session) > std::time(nullptr)) {
      keep(line.key, session);
    } else {
      SSL_SESSION_free(session);
    }
  }
}

std::string render_sessions() {
  std::vector<SessionLine> lines;
  {
    Store& s = store();
    const std::lock_guard lock(s.mutex);
    for (const auto& [key, session] : s.sessions) {
      const int size = i2d_SSL_SESSION(session, nullptr);
      if (size <= 0) {
        continue;
      }
      SessionLine line{key, expiry_of(session), std::string(static_cast<std::size_t>(size), '\0')};
      auto* out = reinterpret_cast<unsigned char*>(line.der.data());
      i2d_SSL_SESSION(session, &out);
      lines.push_back(std::move(line));
    }
  }
  return render_session_lines(usable_sessions(std::move(lines), std::time(nullptr)));
}

}  // namespace hc::transport
