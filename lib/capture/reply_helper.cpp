#include "capture/reply_helper.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/fd_passing.hpp"

namespace hc::capture {
namespace {

// Messages: the helper's hello 'H' + its pid; a request 'D' + the destination's sockaddr; an
// answer 'S' with the socket attached, or 'E' + errno.
constexpr int kAnswerTimeoutMs = 2000;
constexpr int kExitTimeoutMs = 1000;

std::error_code errno_code(int value) {
  return {value, std::system_category()};
}

/// The three capabilities a reply socket needs (IP_TRANSPARENT, a port below 1024), and no other
/// one: as root without a user namespace the helper would otherwise keep them all.
void keep_network_capabilities() {
  constexpr unsigned kept[] = {CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE};
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (cap != CAP_NET_ADMIN && cap != CAP_NET_RAW && cap != CAP_NET_BIND_SERVICE) {
      ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (const unsigned cap : kept) {
    data[cap / 32].effective |= 1U << (cap % 32);
    data[cap / 32].permitted |= 1U << (cap % 32);
  }
  ::syscall(SYS_capset, &header, data);
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/// Only the channel stays open, and /dev/null as the standard streams: the helper must not keep
/// the command's terminal, pipes or sockets alive.
void close_inherited(int channel) {
  if (channel > 3) {
    ::close_range(3, static_cast<unsigned>(channel) - 1, 0);
  }
  ::close_range(static_cast<unsigned>(channel) + 1, ~0U, 0);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    if (null_fd > 2) {
      ::close(null_fd);
    }
  }
}

bool decode_destination(const std::string& bytes, UdpEndpoint& destination) {
  sa_family_t family = AF_UNSPEC;
  if (bytes.size() < 1 + sizeof family || bytes[0] != 'D') {
    return false;
  }
  const std::size_t size = bytes.size() - 1;
  std::memcpy(&family, bytes.data() + 1, sizeof family);
  const bool fits = (family == AF_INET && size == sizeof(sockaddr_in)) ||
                    (family == AF_INET6 && size == sizeof(sockaddr_in6));
  if (!fits) {
    return false;
  }
  std::memcpy(destination.data(), bytes.data() + 1, size);
  destination.resize(size);
  return true;
}

std::string error_answer(int error) {
  std::string bytes = "E";
  bytes.append(reinterpret_cast<const char*>(&error), sizeof error);
  return bytes;
}

[[noreturn]] void serve(int channel) {
  for (;;) {
    auto request = receive_message(channel, -1);
    if (!request || request->bytes.empty()) {
      ::_exit(0);  // hopchain closed its end, or is gone
    }
    for (const int fd : request->fds) {
      ::close(fd);
    }
    UdpEndpoint destination;
    const int fd =
        decode_destination(request->bytes, destination) ? open_reply_fd(destination) : -EINVAL;
    const std::error_code sent = fd >= 0 ? send_message(channel, "S", std::span(&fd, 1))
                                         : send_message(channel, error_answer(-fd));
    if (fd >= 0) {
      ::close(fd);
    }
    if (sent) {
      ::_exit(0);
    }
  }
}

[[noreturn]] void run_helper(int channel) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_NAME, "hopchain-udp", 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // A session of its own: the terminal's ^C, ^\ and ^Z are for the command (which may well go
  // on after them), and must not end or stop the helper it still needs.
  ::setsid();
  close_inherited(channel);
  keep_network_capabilities();
  const pid_t pid = ::getpid();
  std::string hello = "H";
  hello.append(reinterpret_cast<const char*>(&pid), sizeof pid);
  if (send_message(channel, hello)) {
    ::_exit(0);
  }
  serve(channel);
}

}  // namespace

int start_reply_helper() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return -errno;
  }
  // CLONE_PARENT: hopchain, not the command this process becomes, is the helper's parent.
  const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    const int error = errno;
    ::close(pair[0]);
    ::close(pair[1]);
    return -error;
  }
  if (pid == 0) {
    ::close(pair[0]);
    run_helper(pair[1]);
  }
  ::close(pair[1]);
  return pair[0];
}

std::shared_ptr<ReplySocketHelper> ReplySocketHelper::connect(int channel, std::error_code& ec) {
  auto hello = receive_message(channel, kAnswerTimeoutMs);
  if (!hello || hello->bytes.size() != 1 + sizeof(pid_t) || hello->bytes[0] != 'H') {
    ec = hello ? errno_code(EPROTO) : hello.error();
    ::close(channel);
    return nullptr;
  }
  pid_t pid = 0;
  std::memcpy(&pid, hello->bytes.data() + 1, sizeof pid);
  return std::shared_ptr<ReplySocketHelper>(new ReplySocketHelper(channel, pid));
}

ReplySocketHelper::~ReplySocketHelper() {
  close_channel();
  // The helper exits on the channel's EOF, at once: wait for that (bounded) and reap it here,
  // not leave it to whatever reaps orphans (a container's init may not).
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd entry{pidfd, POLLIN, 0};
    ::poll(&entry, 1, kExitTimeoutMs);
    ::close(pidfd);
  }
  if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ReplySocketHelper::close_channel() {
  if (channel_ >= 0) {
    ::close(channel_);
    channel_ = -1;
  }
}

int ReplySocketHelper::open(const UdpEndpoint& destination) {
  const std::lock_guard lock(mutex_);
  if (channel_ < 0) {
    return -EPIPE;
  }
  std::string request = "D";
  request.append(reinterpret_cast<const char*>(destination.data()), destination.size());
  if (const std::error_code ec = send_message(channel_, request)) {
    close_channel();
    return -ec.value();
  }
  auto answer = receive_message(channel_, kAnswerTimeoutMs);
  if (answer && answer->bytes == "S" && answer->fds.size() == 1) {
    return answer->fds.front();
  }
  if (answer) {
    for (const int fd : answer->fds) {
      ::close(fd);
    }
  }
  int error = answer && answer->bytes.empty() ? EPIPE : EPROTO;
  if (answer && answer->bytes.size() == 1 + sizeof error && answer->bytes[0] == 'E') {
    std::memcpy(&error, answer->bytes.data() + 1, sizeof error);
    return -error;
  }
  // Silence, a closed channel or nonsense: the helper cannot be trusted to be in step any more.
  close_channel();
  return answer ? -error : -answer.error().value();
}

}  // namespace hc::capture
