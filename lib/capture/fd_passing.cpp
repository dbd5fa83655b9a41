#include "capture/fd_passing.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>

namespace hc::capture {
namespace {

constexpr std::size_t kMaxFds = 16;
constexpr std::size_t kMaxBytes = 4096;

std::error_code last_error() {
  return {errno, std::system_category()};
}

union ControlBuffer {
  cmsghdr align;
  std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> bytes;
};

std::error_code wait_readable(int socket, int timeout_ms) {
  pollfd entry{socket, POLLIN, 0};
  for (;;) {
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) {
      return {};
    }
    if (ready == 0) {
      return std::make_error_code(std::errc::timed_out);
    }
    if (errno != EINTR) {
      return last_error();
    }
  }
}

}  // namespace

std::error_code send_message(int socket, std::string_view bytes, std::span<const int> fds) {
  if (fds.size() > kMaxFds || bytes.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  iovec data{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  ControlBuffer control{};
  if (!fds.empty()) {
    message.msg_control = control.bytes.data();
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(socket, &message, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) {
      return last_error();
    }
  }
  return {};
}

Result<Message, std::error_code> receive_message(int socket, int timeout_ms) {
  if (const std::error_code ec = wait_readable(socket, timeout_ms)) {
    return failure(ec);
  }
  std::array<char, kMaxBytes> buffer{};
  iovec data{buffer.data(), buffer.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  ControlBuffer control{};
  message.msg_control = control.bytes.data();
  message.msg_controllen = control.bytes.size();
  ssize_t size = 0;
  while ((size = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) {
      return failure(last_error());
    }
  }
  Message received;
  received.bytes.assign(buffer.data(), static_cast<std::size_t>(size));
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      received.fds.resize(count);
      std::memcpy(received.fds.data(), CMSG_DATA(header), count * sizeof(int));
    }
  }
  return received;
}

}  // namespace hc::capture
