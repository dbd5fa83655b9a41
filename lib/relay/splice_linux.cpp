#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "relay/splice.hpp"

namespace hc::relay {
namespace {

// Per splice call; the pipe's size bounds what one call moves anyway.
constexpr std::size_t kChunk = 1 << 20;
// What a bulk direction grows its pipe to (64 KiB by default): a quarter of the calls per byte.
// Not more: each user may hold fs.pipe-user-pages-soft (64 MiB) of pipe capacity before new
// pipes shrink to two pages, so 256 tunnels in bulk at once can have theirs.
constexpr int kBulkPipeSize = 256 * 1024;

/// kBulkPipeSize, bounded by fs.pipe-max-size (read once).
int bulk_pipe_size() {
  static const int size = [] {
    long max = kBulkPipeSize;
    if (std::FILE* f = std::fopen("/proc/sys/fs/pipe-max-size", "r")) {
      if (std::fscanf(f, "%ld", &max) != 1) {
        max = kBulkPipeSize;
      }
      std::fclose(f);
    }
    return static_cast<int>(std::min<long>(max, kBulkPipeSize));
  }();
  return size;
}

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
      return pipe;
    }
    const int size = ::fcntl(pipe.fds_[1], F_GETPIPE_SZ);
    pipe.capacity_ = size > 0 ? static_cast<std::size_t>(size) : static_cast<std::size_t>(-1);
    return pipe;
  }
  ~Pipe() { reset(); }
  Pipe(Pipe&& other) noexcept : fds_{other.fds_[0], other.fds_[1]}, capacity_(other.capacity_) {
    other.fds_[0] = other.fds_[1] = -1;
  }
  Pipe& operator=(Pipe&& other) noexcept {
    if (this != &other) {
      reset();
      fds_[0] = std::exchange(other.fds_[0], -1);
      fds_[1] = std::exchange(other.fds_[1], -1);
      capacity_ = other.capacity_;
    }
    return *this;
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  /// A splice filled the pipe: the direction is in bulk, so the pipe grows once (a refusal, past
  /// the user's pipe quota, is quietly kept at the size it has).
  void filled(std::size_t bytes) {
    if (bytes >= capacity_ && capacity_ < static_cast<std::size_t>(bulk_pipe_size())) {
      const int now = ::fcntl(fds_[1], F_SETPIPE_SZ, bulk_pipe_size());
      // Tried once either way.
      capacity_ = now > 0 ? static_cast<std::size_t>(now) : static_cast<std::size_t>(-1);
    }
  }
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
  std::size_t capacity_ = 0;  ///< the pipe's size; (size_t)-1 once growing was refused
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

bool is_pipe(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/// One direction being spliced: its ends, its pipe (when it holds one) and what it has moved.
struct Direction {
  transport::RawIo& from;
  transport::RawIo& to;
  Pipe pipe;
  std::uint64_t* progress;
  int src = from.read_fd();
  int dst = to.write_fd();
  SpliceResult result = {};
  bool moved_any = false;  ///< once bytes went through, EINVAL is an error, not `unsupported`

  void fail(std::error_code ec) {
    result.outcome = SpliceOutcome::error;
    result.error = ec;
  }
  /// `n` bytes reached the destination.
  void delivered(std::size_t n) {
    result.bytes += static_cast<std::uint64_t>(n);
    if (progress != nullptr) {
      *progress += static_cast<std::uint64_t>(n);
    }
  }
};

/// Nothing to move, and the pipe is empty: an idle direction gives its pipe back, waits for the
/// source, then takes a pipe again. False when the direction is finished (d.result says how).
awaitable<bool> idle_until_readable(Direction& d) {
  PipePool::give_back(d.pipe);
  if (auto ec = co_await d.from.wait_readable()) {
    d.fail(ec);
    co_return false;
  }
  d.pipe = PipePool::take();
  co_return d.pipe.ok();  // out of descriptors: the caller copies the rest
}

/// Splices what the source has into the (empty) pipe, waiting while it has nothing. The bytes
/// now in the pipe, or 0 when the direction is finished (d.result says how).
awaitable<std::size_t> fill_pipe(Direction& d) {
  for (;;) {
    // The pipe is always drained before we come back here, so EAGAIN from this splice means the
    // source has nothing to read, never that the pipe is full.
    const ssize_t in = ::splice(d.src, nullptr, d.pipe.write_end(), nullptr, kChunk,
                                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in > 0) {
      d.pipe.filled(static_cast<std::size_t>(in));
      co_return static_cast<std::size_t>(in);
    }
    if (in == 0) {
      PipePool::give_back(d.pipe);
      d.result.outcome = SpliceOutcome::eof;
      co_return 0;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      if (!co_await idle_until_readable(d)) {
        co_return 0;
      }
      continue;
    }
    if (errno != EINVAL || d.moved_any) {
      d.fail(last_error());
    }  // else this source cannot splice: unsupported
    co_return 0;
  }
}

/// Writes all of `data` to the destination with write(2), waiting while it is full. False on
/// an error (in d.result).
awaitable<bool> write_to_destination(Direction& d, const char* data, std::size_t size) {
  std::size_t off = 0;
  while (off < size) {
    const ssize_t w = ::write(d.dst, data + off, size - off);
    if (w > 0) {
      off += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EAGAIN) {
      if (auto ec = co_await d.to.wait_writable()) {
        d.fail(ec);
        co_return false;
      }
    } else if (w < 0 && errno != EINTR) {
      d.fail(last_error());
      co_return false;
    }
  }
  co_return true;
}

/// The destination cannot splice (a tty): hands the `in_pipe` bytes over by copying them out of
/// the pipe. The caller copies from then on.
awaitable<void> copy_out_of_pipe(Direction& d, std::size_t in_pipe) {
  char buffer[4096];
  while (in_pipe > 0) {
    const ssize_t r = ::read(d.pipe.read_end(), buffer, sizeof buffer);
    if (r <= 0) {
      break;
    }
    if (!co_await write_to_destination(d, buffer, static_cast<std::size_t>(r))) {
      co_return;
    }
    in_pipe -= static_cast<std::size_t>(r);
    d.delivered(static_cast<std::size_t>(r));
  }
}

/// Splices the `in_pipe` bytes in the pipe to the destination, waiting while it is full. False
/// when the direction is finished (d.result says how).
awaitable<bool> drain_pipe(Direction& d, std::size_t in_pipe) {
  while (in_pipe > 0) {
    const ssize_t out = ::splice(d.pipe.read_end(), nullptr, d.dst, nullptr, in_pipe,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (out > 0) {
      in_pipe -= static_cast<std::size_t>(out);
      d.delivered(static_cast<std::size_t>(out));
      d.moved_any = true;
      continue;
    }
    if (out < 0 && errno == EINTR) {
      continue;
    }
    if (out < 0 && errno == EAGAIN) {
      if (auto ec = co_await d.to.wait_writable()) {
        d.fail(ec);
        co_return false;
      }
      continue;
    }
    if (out < 0 && errno == EINVAL && !d.moved_any) {
      co_await copy_out_of_pipe(d, in_pipe);
      co_return false;  // unsupported from here on (unless the copy failed); the pipe is empty
    }
    d.fail(out == 0 ? std::make_error_code(std::errc::broken_pipe) : last_error());
    co_return false;
  }
  co_return true;
}

/// One end is itself a pipe (stdio under a shell or ssh): splice straight from source to
/// destination, one call per chunk instead of two and no pipe of our own.
awaitable<SpliceResult> splice_direct(Direction& d) {
  for (;;) {
    const ssize_t n =
        ::splice(d.src, nullptr, d.dst, nullptr, kChunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.delivered(static_cast<std::size_t>(n));
      d.moved_any = true;
      continue;
    }
    if (n == 0) {
      d.result.outcome = SpliceOutcome::eof;
      co_return d.result;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      // Either end may be the one not ready: a readable source means a full destination.
      pollfd source{d.src, POLLIN, 0};
      const bool readable = ::poll(&source, 1, 0) > 0;
      const std::error_code ec =
          readable ? co_await d.to.wait_writable() : co_await d.from.wait_readable();
      if (ec) {
        d.fail(ec);
        co_return d.result;
      }
      continue;
    }
    if (errno != EINVAL || d.moved_any) {
      d.fail(last_error());
    }  // else these two cannot splice: unsupported
    co_return d.result;
  }
}

}  // namespace

awaitable<SpliceResult> splice_until_eof(transport::RawIo& from, transport::RawIo& to,
                                         std::uint64_t* progress) {
  if (is_socket(from.read_fd())) {
    // An idle tunnel should not hold two descriptors per direction: the pipe is taken when the
    // first bytes are there to move.
    if (auto ec = co_await from.wait_readable()) {
      SpliceResult result;
      result.outcome = SpliceOutcome::error;
      result.error = ec;
      co_return result;
    }
  }
  if (is_pipe(from.read_fd()) || is_pipe(to.write_fd())) {
    Direction d{from, to, Pipe(), progress};
    set_non_blocking(d.src);
    set_non_blocking(d.dst);
    co_return co_await splice_direct(d);
  }
  Direction d{from, to, PipePool::take(), progress};
  if (!d.pipe.ok()) {
    co_return d.result;  // out of descriptors: copying still works
  }
  set_non_blocking(d.src);
  set_non_blocking(d.dst);
  for (;;) {
    const std::size_t in_pipe = co_await fill_pipe(d);
    if (in_pipe == 0) {
      co_return d.result;
    }
    if (!co_await drain_pipe(d, in_pipe)) {
      co_return d.result;
    }
  }
}

}  // namespace hc::relay
