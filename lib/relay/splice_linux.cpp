#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

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
  Pipe() = default;  ///< no pipe
  static Pipe open() {
    Pipe pipe;
    if (::pipe2(pipe.fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
      pipe.fds_[0] = pipe.fds_[1] = -1;
    }
    return pipe;
  }
  ~Pipe() { reset(); }
  Pipe(Pipe&& other) noexcept : fds_{other.fds_[0], other.fds_[1]} {
    other.fds_[0] = other.fds_[1] = -1;
  }
  Pipe& operator=(Pipe&& other) noexcept {
    if (this != &other) {
      reset();
      fds_[0] = std::exchange(other.fds_[0], -1);
      fds_[1] = std::exchange(other.fds_[1], -1);
    }
    return *this;
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  void reset() {
    for (int& fd : fds_) {
      if (fd >= 0) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  int fds_[2] = {-1, -1};
};

/// Empty pipes of directions that are waiting for data. An idle tunnel then holds no pipe at
/// all (two descriptors per direction saved), and a busy one does not pay pipe2 and close on
/// every burst. Per thread, since every event loop runs on one.
class PipePool {
 public:
  static Pipe take() {
    auto& pool = idle();
    if (pool.empty()) {
      return Pipe::open();
    }
    Pipe pipe = std::move(pool.back());
    pool.pop_back();
    return pipe;
  }
  /// `pipe` must be empty; it is left without a pipe.
  static void give_back(Pipe& pipe) {
    auto& pool = idle();
    if (pipe.ok() && pool.size() < kMaxIdle) {
      pool.push_back(std::move(pipe));
    }
    pipe = Pipe();
  }

 private:
  static constexpr std::size_t kMaxIdle = 32;
  static std::vector<Pipe>& idle() {
    thread_local std::vector<Pipe> pool;
    return pool;
  }
};

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

awaitable<SpliceResult> splice_until_eof(transport::RawIo& from, transport::RawIo& to,
                                         std::uint64_t* progress) {
  SpliceResult result;
  if (is_socket(from.read_fd())) {
    // An idle tunnel should not hold two descriptors per direction: the pipe is taken when the
    // first bytes are there to move.
    if (auto ec = co_await from.wait_readable()) {
      result.outcome = SpliceOutcome::error;
      result.error = ec;
      co_return result;
    }
  }
  Pipe pipe = PipePool::take();
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
      PipePool::give_back(pipe);
      result.outcome = SpliceOutcome::eof;
      co_return result;
    }
    if (in < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        // Nothing to move, and the pipe is empty: an idle direction gives its pipe back.
        PipePool::give_back(pipe);
        if (auto ec = co_await from.wait_readable()) {
          result.outcome = SpliceOutcome::error;
          result.error = ec;
          co_return result;
        }
        pipe = PipePool::take();
        if (!pipe.ok()) {
          co_return result;  // out of descriptors: the caller copies the rest
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
        if (progress != nullptr) {
          *progress += static_cast<std::uint64_t>(out);
        }
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
          if (progress != nullptr) {
            *progress += static_cast<std::uint64_t>(r);
          }
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
