#include "standard_fds.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace hc::cli {

bool open_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) {
      continue;
    }
    // The lowest free number is taken, and the ones below are open by now: this is FD.
    const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null != fd) {
      return false;
    }
  }
  return true;
}

}  // namespace hc::cli
