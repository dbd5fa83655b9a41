/// The text form of kept TLS sessions, for the cache file a stdio run (one process per
/// connection) reads at start and writes at exit: one "KEY EXPIRY HEX" line per session, KEY
/// being "host:port name settings" (never the hop's credentials), EXPIRY the Unix time after
/// which the session is useless, HEX its DER form. Pure: no I/O, time as a parameter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace hc::transport {

struct SessionLine {
  std::string key;  ///< no spaces replaced: the last two fields are split off the end
  std::int64_t expiry = 0;
  std::string der;  ///< raw bytes
};

inline constexpr std::size_t kMaxKeptSessions = 64;
inline constexpr std::size_t kMaxSessionFileBytes = 1 << 20;

std::string render_session_lines(const std::vector<SessionLine>& sessions);

/// The well-formed, unexpired lines of `text`; garbage lines are skipped. When more than `cap`
/// remain, those expiring first are dropped.
std::vector<SessionLine> parse_session_lines(std::string_view text, std::int64_t now,
                                             std::size_t cap = kMaxKeptSessions);

/// `sessions` without the expired ones and, past `cap`, without those expiring first.
std::vector<SessionLine> usable_sessions(std::vector<SessionLine> sessions, std::int64_t now,
                                         std::size_t cap = kMaxKeptSessions);

/// Why a file with these stat fields must not be trusted (another user could choose whom we
/// resume with, or read the session secrets), or nullopt if it may be used.
std::optional<std::string> unsafe_session_file(uid_t owner, mode_t mode, uid_t user);

}  // namespace hc::transport
