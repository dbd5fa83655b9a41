#include "argv_secrets.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace hc::cli {

bool scrub_url_password(char* arg) {
  const std::string_view text(arg);
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return false;
  }
  const std::size_t start = scheme_end + 3;
  const std::size_t end = std::min(text.find_first_of("/?#", start), text.size());
  const std::size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) {
    return false;
  }
  const std::size_t colon = text.substr(0, at).find(':', start);
  if (colon == std::string_view::npos || colon + 1 == at) {
    return false;
  }
  char* password = arg + colon + 1;
  const std::size_t length = at - colon - 1;
  if (length < 3) {
    std::memset(password, '*', length);
    return true;
  }
  std::memcpy(password, "***", 3);
  // Move "@host..." with its terminator up behind the stars; zero what is left of the old end.
  const std::size_t tail = text.size() - at + 1;
  std::memmove(password + 3, arg + at, tail);
  std::memset(password + 3 + tail, '\0', length - 3);
  return true;
}

int scrub_argv_passwords(int argc, char** argv) {
  int hidden = 0;
  for (int i = 1; i < argc; ++i) {
    hidden += scrub_url_password(argv[i]) ? 1 : 0;
  }
  return hidden;
}

}  // namespace hc::cli
