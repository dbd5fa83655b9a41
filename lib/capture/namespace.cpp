#include "capture/namespace.hpp"

#include <cerrno>
#include <csignal>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/fd_passing.hpp"
#include "capture/namespace_child.hpp"

namespace hc::capture {
namespace {

/// The child's setup is a few syscalls and one ruleset; a child that takes longer is stuck.
constexpr int kSetupTimeoutMs = 10'000;

ChildFailure parent_failure(Stage stage, int error, std::string detail) {
  return {stage, error, std::move(detail)};
}

void close_all(std::vector<int>& fds) {
  for (const int fd : fds) {
    ::close(fd);
  }
  fds.clear();
}

/// The child's report after a failure: its message, or what its exit says.
ChildFailure reap_failed_child(pid_t pid, const Result<Message, std::error_code>& received) {
  if (received && !received->bytes.empty()) {
    if (auto failure = detail::decode_failure(received->bytes)) {
      ::waitpid(pid, nullptr, 0);
      return *failure;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int error = received ? 0 : received.error().value();
  return parent_failure(
      Stage::network_namespace, error,
      "the namespace's process ended without a word (status " + std::to_string(status) + ")");
}

}  // namespace

asio::ip::address namespace_address_v4() {
  return asio::ip::make_address("10.255.255.1");
}

asio::ip::address namespace_address_v6() {
  return asio::ip::make_address("fd00:6863:ffff::1");
}

CaptureNamespace::CaptureNamespace(CaptureNamespace&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      channel_(std::exchange(other.channel_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      started_(other.started_),
      tcp_listeners_(std::exchange(other.tcp_listeners_, {})),
      extra_sockets_(std::exchange(other.extra_sockets_, {})) {}

CaptureNamespace::~CaptureNamespace() {
  close_all(tcp_listeners_);
  close_all(extra_sockets_);
  if (channel_ >= 0) {
    ::close(channel_);
  }
  if (pid_ > 0 && !started_) {
    // Never given the go: the child is waiting for it; end and reap it.
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (pidfd_ >= 0) {
    ::close(pidfd_);
  }
}

Result<CaptureNamespace, ChildFailure> CaptureNamespace::start(const NamespacePlan& plan) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return failure(parent_failure(Stage::network_namespace, errno, "socketpair"));
  }
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(pair[0]);
    ::close(pair[1]);
    return failure(parent_failure(Stage::network_namespace, error, "fork"));
  }
  if (pid == 0) {
    ::close(pair[0]);
    detail::run_namespace_child({plan, pair[1], uid, gid});
  }
  ::close(pair[1]);
  CaptureNamespace created(pid, pair[0]);
  created.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto received = receive_message(created.channel_, kSetupTimeoutMs);
  if (!received || received->bytes.size() != 2 || received->bytes[0] != 'R') {
    if (received) {
      close_all(received->fds);
    }
    created.started_ = true;  // reaped here, not by the destructor
    return failure(reap_failed_child(std::exchange(created.pid_, -1), received));
  }
  const auto listeners = static_cast<std::size_t>(received->bytes[1]);
  auto& fds = received->fds;
  const auto split = fds.begin() + static_cast<std::ptrdiff_t>(std::min(listeners, fds.size()));
  created.tcp_listeners_.assign(fds.begin(), split);
  created.extra_sockets_.assign(split, fds.end());
  return created;
}

Result<void, ChildFailure> CaptureNamespace::start_command() {
  started_ = true;
  if (send_message(channel_, "G")) {
    return failure(parent_failure(Stage::exec, ESRCH, "the namespace's process is gone"));
  }
  // The channel is close-on-exec in the child: EOF means the command is running.
  auto received = receive_message(channel_, kSetupTimeoutMs);
  ::close(std::exchange(channel_, -1));
  if (received && received->bytes.empty()) {
    return {};
  }
  ChildFailure failure = reap_failed_child(pid_, received);
  pid_ = -1;
  return hc::failure(std::move(failure));
}

}  // namespace hc::capture
