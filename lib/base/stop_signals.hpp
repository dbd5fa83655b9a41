/// Stop signals belong to the main thread. Asio catches them with one process-wide handler while
/// a signal_set exists, and puts back the default action (terminate) when the last one goes away.
/// A second SIGTERM during shutdown (`timeout` and shells signal the process and then its whole
/// group) would then kill a process that has already chosen its exit status. So helper threads
/// never take these signals, and the main thread stops taking them once it is shutting down:
/// they stay pending until the process exits with the status it chose.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <thread>
#include <utility>

namespace hc {

inline sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) {
    sigaddset(&set, signo);
  }
  return set;
}

/// From now on this thread leaves the stop signals pending.
inline void hold_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

/// A thread that never takes a stop signal: it inherits a mask that holds them from its first
/// instruction (blocking inside the thread body would leave a window).
template <class Body>
std::thread start_thread_without_stop_signals(Body&& body) {
  const sigset_t set = stop_signals();
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &set, &previous);
  struct Restore {
    const sigset_t& mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};
  return std::thread(std::forward<Body>(body));
}

}  // namespace hc
