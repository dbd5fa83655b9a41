#include "log/log.hpp"

#include <atomic>
#include <string>
#include <unistd.h>

namespace hc::log {
namespace {
int g_verbosity = 0;
std::atomic<unsigned long long> g_connections{0};
}  // namespace

void set_verbosity(int verbosity) {
  g_verbosity = verbosity;
}

bool enabled(Level level) {
  // Errors are printed even with -q: a failure must always say why.
  return level == Level::error || static_cast<int>(level) <= g_verbosity;
}

void write(Level level, std::string_view message) {
  if (enabled(level)) {
    print(message);
  }
}

void print(std::string_view message) {
  std::string line = "hopchain: ";
  line.append(message);
  line.push_back('\n');
  // One write() per line so lines from concurrent connections do not interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) {
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string next_connection_tag() {
  return "[c" + std::to_string(++g_connections) + "] ";
}

}  // namespace hc::log
