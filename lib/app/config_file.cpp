/// Bounded reads of configuration files, and their shared comment rule.
#include "app/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hc::app {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "an unusual file type";
}

/// Appends FD's content to TEXT; more than the cap (a file that grew after fstat) is an error.
std::string read_all(int fd, std::string& text) {
  char buf[4096];
  std::string error;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      error = n < 0 ? std::strerror(errno) : "";
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileSize) {
      error = "larger than 1 MiB";
      break;
    }
  }
  std::fill(std::begin(buf), std::end(buf), '\0');
  return error;
}

}  // namespace

ConfigFileText read_config_file(const std::string& path) {
  ConfigFileText file;
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    file.missing = errno == ENOENT;
    file.error = std::strerror(errno);
    return file;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    file.error = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    file.error = std::string("not a regular file (") + kind_of(st.st_mode) + ")";
  } else if (static_cast<std::size_t>(st.st_size) > kMaxConfigFileSize) {
    file.error = "larger than 1 MiB";
  } else {
    file.mode = st.st_mode;
    file.error = read_all(fd, file.text);
  }
  ::close(fd);
  if (!file.error.empty()) {
    wipe(file.text);
    file.text.clear();
  }
  return file;
}

bool is_comment_line(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

void wipe(std::string& text) {
  // volatile: the stores must not be dropped as dead before the string is freed.
  volatile char* p = text.data();
  for (std::size_t i = 0; i < text.size(); ++i) {
    p[i] = '\0';
  }
}

}  // namespace hc::app
