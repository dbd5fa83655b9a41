/// Reading and checking the socks mode's users file.
#include "app/users_file.hpp"

#include <algorithm>
#include <cstdio>

#include "app/config_file.hpp"
#include "base/lines.hpp"

namespace hc::app {
namespace {

constexpr std::size_t kMaxField = 255;  // RFC 1929: ULEN and PLEN are one octet

std::string octal_mode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

/// Walks the whole guess whatever it holds, so the time depends on the guess's length only.
bool equal_constant_time(std::string_view secret, std::string_view guess) {
  unsigned diff = secret.size() == guess.size() ? 0 : 1;
  for (std::size_t i = 0; i < guess.size(); ++i) {
    const unsigned s = i < secret.size() ? static_cast<unsigned char>(secret[i]) : 0u;
    diff |= s ^ static_cast<unsigned char>(guess[i]);
  }
  return diff == 0;
}

}  // namespace

Result<std::vector<proto::Credentials>> parse_users(std::string_view text) {
  std::vector<proto::Credentials> users;
  std::size_t number = 0;
  while (!text.empty()) {
    std::string_view line = take_line(text);
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos || is_comment_line(line)) {
      continue;
    }
    const std::string where = "line " + std::to_string(number) + ": ";
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return failure(where + "expected user:password");
    }
    proto::Credentials c{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))};
    if (c.user.empty() || c.password.empty()) {
      return failure(where + "empty user or password (RFC 1929 needs 1 to 255 bytes each)");
    }
    if (c.user.size() > kMaxField || c.password.size() > kMaxField) {
      return failure(where + "user or password longer than 255 bytes (RFC 1929 limit)");
    }
    if (std::any_of(users.begin(), users.end(),
                    [&](const proto::Credentials& u) { return u.user == c.user; })) {
      return failure(where + "user listed twice");
    }
    users.push_back(std::move(c));
  }
  if (users.empty()) {
    return failure("no user:password line");
  }
  return users;
}

Result<std::vector<proto::Credentials>> load_users_file(const std::string& path) {
  const std::string name = "--users " + path + ": ";
  // The permissions checked are those of the file read (fstat on the descriptor read from).
  ConfigFileText file = read_config_file(path);
  if (!file.error.empty()) {
    return failure(name + file.error);
  }
  if ((file.mode & 077) != 0) {
    wipe(file.text);
    return failure(name + "permissions " + octal_mode(file.mode) +
                   " are too open: the file holds passwords, so group and others must have no "
                   "access (chmod 600 " +
                   path + ")");
  }
  auto users = parse_users(file.text);
  wipe(file.text);
  if (!users) {
    return failure(name + users.error());
  }
  return users;
}

bool check_user(const std::vector<proto::Credentials>& users, std::string_view user,
                std::string_view password) {
  for (const auto& u : users) {
    if (u.user == user) {
      return equal_constant_time(u.password, password);
    }
  }
  return false;
}

}  // namespace hc::app
