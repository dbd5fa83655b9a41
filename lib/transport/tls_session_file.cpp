#include "transport/tls_session_file.hpp"

#include <algorithm>
#include <charconv>
#include <sys/stat.h>

namespace hc::transport {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const auto high = kHex.find(hex[i]);
    const auto low = kHex.find(hex[i + 1]);
    if (high == std::string_view::npos || low == std::string_view::npos) {
      return std::nullopt;
    }
    bytes += static_cast<char>(high * 16 + low);
  }
  return bytes;
}

/// "KEY EXPIRY HEX": the key may hold spaces, so the other two are split off the end.
std::optional<SessionLine> parse_line(std::string_view line) {
  const auto last = line.rfind(' ');
  if (last == std::string_view::npos || last == 0) {
    return std::nullopt;
  }
  const auto middle = line.rfind(' ', last - 1);
  if (middle == std::string_view::npos || middle == 0) {
    return std::nullopt;
  }
  SessionLine session{std::string(line.substr(0, middle)), 0, {}};
  const std::string_view expiry = line.substr(middle + 1, last - middle - 1);
  const auto [end, ec] = std::from_chars(expiry.begin(), expiry.end(), session.expiry);
  auto der = from_hex(line.substr(last + 1));
  if (ec != std::errc() || end != expiry.end() || !der) {
    return std::nullopt;
  }
  session.der = std::move(*der);
  return session;
}

}  // namespace

std::string render_session_lines(const std::vector<SessionLine>& sessions) {
  std::string text;
  for (const auto& session : sessions) {
    text += session.key + " " + std::to_string(session.expiry) + " ";
    for (const unsigned char byte : session.der) {
      text += kHex[byte >> 4];
      text += kHex[byte & 15];
    }
    text += '\n';
  }
  return text;
}

std::vector<SessionLine> parse_session_lines(std::string_view text, std::int64_t now,
                                             std::size_t cap) {
  std::vector<SessionLine> sessions;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    auto session = parse_line(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (session) {
      sessions.push_back(std::move(*session));
    }
  }
  return usable_sessions(std::move(sessions), now, cap);
}

std::vector<SessionLine> usable_sessions(std::vector<SessionLine> sessions, std::int64_t now,
                                         std::size_t cap) {
  std::erase_if(sessions, [now](const SessionLine& s) { return s.expiry <= now; });
  if (sessions.size() > cap) {
    std::stable_sort(sessions.begin(), sessions.end(),
                     [](const auto& a, const auto& b) { return a.expiry > b.expiry; });
    sessions.resize(cap);
  }
  return sessions;
}

std::optional<std::string> unsafe_session_file(uid_t owner, mode_t mode, uid_t user) {
  if (!S_ISREG(mode)) {
    return "not a regular file";
  }
  if (owner != user) {
    return "owned by another user";
  }
  if ((mode & 077) != 0) {
    return "readable or writable by others (mode must be 0600)";
  }
  return std::nullopt;
}

}  // namespace hc::transport
