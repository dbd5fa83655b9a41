#include "app/signal_forwarding.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <unistd.h>

namespace hc::app {
namespace {

std::atomic<int> forward_to{-1};  // the command's pidfd; -1: nothing to forward to

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/// Async-signal-safe: an atomic load and one system call.
void forward(int signo, siginfo_t* info, void* /*context*/) {
  const int pidfd = forward_to.load();
  if (pidfd < 0 || info->si_code == SI_KERNEL) {
    return;
  }
  const int saved = errno;
  ::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0);
  errno = saved;
}

}  // namespace

SignalForwarding::SignalForwarding(int pidfd) {
  forward_to.store(pidfd);
  struct sigaction action = {};
  action.sa_sigaction = forward;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (const int signo : kForwarded) {
    ::sigaction(signo, &action, nullptr);
  }
}

// The handlers stay: with nothing to forward to they ignore the signals until hopchain, which
// has chosen its exit status (the command's), has exited.
SignalForwarding::~SignalForwarding() {
  forward_to.store(-1);
}

}  // namespace hc::app
