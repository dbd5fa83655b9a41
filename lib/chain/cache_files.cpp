#include "chain/cache_files.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "base/stop_signals.hpp"

namespace hc::chain {
namespace {

void make_private_dirs(const std::string& file) {
  for (std::size_t i = 1; i < file.size(); ++i) {
    if (file[i] == '/') {
      ::mkdir(file.substr(0, i).c_str(), 0700);
    }
  }
}

}  // namespace

std::string cache_path(std::string_view name) {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') {
    return std::string(xdg) + "/hopchain/" + std::string(name);
  }
  if (const char* home = std::getenv("HOME"); home && home[0] == '/') {
    return std::string(home) + "/.cache/hopchain/" + std::string(name);
  }
  return {};
}

bool write_private_file(const std::string& path, std::string_view text) {
  make_private_dirs(path);
  const std::string temporary = path + "." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

CacheWriter::CacheWriter() : thread_(start_thread_without_stop_signals([this] { run(); })) {}

CacheWriter::~CacheWriter() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void CacheWriter::save(const std::string& path, std::string text) {
  {
    const std::lock_guard lock(mutex_);
    pending_[path] = std::move(text);
  }
  wake_.notify_one();
}

void CacheWriter::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_.empty() && !writing_; });
}

void CacheWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !pending_.empty() || stopping_; });
    if (pending_.empty()) {
      return;  // stopping, and everything asked for is written
    }
    auto file = pending_.extract(pending_.begin());
    writing_ = true;
    lock.unlock();
    write_private_file(file.key(), file.mapped());  // a cache: a failure only loses what it knew
    lock.lock();
    writing_ = false;
    if (pending_.empty()) {
      idle_.notify_all();
    }
  }
}

}  // namespace hc::chain
