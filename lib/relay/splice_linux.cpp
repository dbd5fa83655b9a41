#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/splice.hpp"

namespace hc::relay {
namespace {

// Per splice call; the pipe holds 64 KiB by default, which bounds what one call moves anyway.
constexpr std::size_t kChunk = 1 << 20;

void set_non_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

std::error_code last_error() {
  return {errno, std::system_category()};
}

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
      fds_[0] = fds_[1] = -1;
    }
  }
  ~Pipe() {
    for (int fd : fds_) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  int fds_[2];
};

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

awaitable<SpliceResult> splice_until_eof(transport::RawIo& from, transport::RawIo& to) {
  SpliceResult result;
  if (is_socket(from.read_fd())) {
    // An idle tunnel should not hold two descriptors per direction: the pipe is made when the
    // first bytes are there to move.
    if (auto ec = co_await from.wait_readable()) {
      result.outcome = SpliceOutcome::error;
      result.error = ec;
      co_return result;
    }
  }
  Pipe pipe;
  if (!pipe.ok()) {
    co_return result;  // out of descriptors: copying still works
  }
  const int src = from.read_fd();
  const int dst = to.write_fd();
  set_non_blocking(src);
  set_non_blocking(dst);
  bool moved_any = false;
  for (;;) {
    // The pipe is always drained below before we come back here, so EAGAIN from this splice
    // means the source has nothing to read, never that the pipe is full.
    const ssize_t in = ::splice(src, nullptr, pipe.write_end(), nullptr, kChunk,
                                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in == 0) {
      result.outcome = SpliceOutcome::eof;
      co_return result;
    }
    if (in < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        if (auto ec = co_await from.wait_readable()) {
          result.outcome = SpliceOutcome::error;
          result.error = ec;
          co_return result;
        }
        continue;
      }
      if (errno == EINVAL && !moved_any) {
        co_return result;  // this source cannot splice: unsupported
      }
      result.outcome = SpliceOutcome::error;
      result.error = last_error();
      co_return result;
    }
    std::size_t in_pipe = static_cast<std::size_t>(in);
    while (in_pipe > 0) {
      const ssize_t out = ::splice(pipe.read_end(), nullptr, dst, nullptr, in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (out > 0) {
        in_pipe -= static_cast<std::size_t>(out);
        result.bytes += static_cast<std::uint64_t>(out);
        moved_any = true;
        continue;
      }
      if (out < 0 && errno == EINTR) {
        continue;
      }
      if (out < 0 && errno == EAGAIN) {
        if (auto ec = co_await to.wait_writable()) {
          result.outcome = SpliceOutcome::error;
          result.error = ec;
          co_return result;
        }
        continue;
      }
      if (out < 0 && errno == EINVAL && !moved_any) {
        // The destination cannot splice (a tty): hand the bytes over by copying them out of the
        // pipe, then let the caller copy from now on.
        char buffer[4096];
        while (in_pipe > 0) {
          const ssize_t r = ::read(pipe.read_end(), buffer, sizeof buffer);
          if (r <= 0) {
            break;
          }
          std::size_t off = 0;
          while (off < static_cast<std::size_t>(r)) {
            const ssize_t w = ::write(dst, buffer + off, static_cast<std::size_t>(r) - off);
            if (w > 0) {
              off += static_cast<std::size_t>(w);
            } else if (w < 0 && errno == EAGAIN) {
              if (auto ec = co_await to.wait_writable()) {
                result.outcome = SpliceOutcome::error;
                result.error = ec;
                co_return result;
              }
            } else if (w < 0 && errno != EINTR) {
              result.outcome = SpliceOutcome::error;
              result.error = last_error();
              co_return result;
            }
          }
          in_pipe -= static_cast<std::size_t>(r);
          result.bytes += static_cast<std::uint64_t>(r);
        }
        co_return result;  // unsupported from here on; the pipe is empty
      }
      result.outcome = SpliceOutcome::error;
      result.error = out == 0 ? std::make_error_code(std::errc::broken_pipe) : last_error();
      co_return result;
    }
  }
}

}  // namespace hc::relay
