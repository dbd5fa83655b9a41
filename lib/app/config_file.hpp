/// The small files hopchain reads at startup (chain files, the credentials file, `socks --users`
/// files): one bounded way to read them and one comment rule for the files that hold passwords.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hc::app {

/// No hopchain file needs more; a bigger one is a mistake (or /dev/zero) and is refused.
inline constexpr std::size_t kMaxConfigFileSize = 1 << 20;

struct ConfigFileText {
  std::string text;
  unsigned mode = 0;     ///< st_mode of the file read
  bool missing = false;  ///< the path does not exist (ENOENT), which some callers accept
  std::string error;     ///< why it could not be read (without the path); empty on success
};

/// Reads PATH whole. Refuses, promptly and without blocking, what is not a regular file (a
/// directory, a FIFO, a device such as /dev/zero) and anything over kMaxConfigFileSize.
ConfigFileText read_config_file(const std::string& path);

/// The comment rule of the credentials and users files: a line whose first character other than
/// a space or tab is `#` is a comment; a `#` anywhere else is data, so a password may hold one.
bool is_comment_line(std::string_view line);

/// Overwrites a string that held passwords before its memory is released.
void wipe(std::string& text);

}  // namespace hc::app
