#include "transport/first_bytes.hpp"

#include <cerrno>
#include <poll.h>
#include <unistd.h>

namespace hc::transport {

void FirstBytes::poll() {
  while (fd_ >= 0 && !local_ended_ && !overflowed_ && held_.size() < limit_) {
    pollfd ready{fd_, POLLIN, 0};
    int n = ::poll(&ready, 1, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    // An error is left for the relay to read and report; only data and EOF are taken here.
    if (n <= 0 || (ready.revents & POLLERR) != 0 || (ready.revents & (POLLIN | POLLHUP)) == 0) {
      return;
    }
    const std::size_t before = held_.size();
    held_.resize(limit_);
    const ssize_t got = ::read(fd_, held_.data() + before, limit_ - before);
    held_.resize(before + (got > 0 ? static_cast<std::size_t>(got) : 0));
    if (got == 0) {
      local_ended_ = true;
    }
    if (got < 0 && errno != EINTR) {
      return;  // EAGAIN on a descriptor someone made non-blocking, or an error for the relay
    }
  }
}

RawIo* FirstBytes::waitable() const {
  if (fd_ < 0 || local_ended_ || overflowed_ || held_.size() >= limit_) {
    return nullptr;
  }
  return local_;
}

bool FirstBytes::poll_more() {
  const std::size_t before = held_.size();
  poll();
  return held_.size() > before || local_ended_;
}

void FirstBytes::record(std::span<const std::uint8_t> bytes) {
  if (overflowed_) {
    return;
  }
  if (held_.size() + bytes.size() > limit_) {
    overflowed_ = true;
    held_ = {};
    return;
  }
  held_.insert(held_.end(), bytes.begin(), bytes.end());
}

}  // namespace hc::transport
