/// exec mode: the signals that would stop hopchain go to its command instead, which decides.
/// hopchain then ends when the command does, with its status.
#pragma once

namespace hc::app {

/// While it lives, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to hopchain are sent on to the
/// process behind `pidfd` (pidfd_send_signal: never to a recycled pid). Signals the kernel sent
/// (si_code SI_KERNEL: the terminal's ^C, ^\, hang-up) are not: they went to the whole
/// foreground process group, the command included, and would arrive twice. One at a time.
class SignalForwarding {
 public:
  explicit SignalForwarding(int pidfd);
  ~SignalForwarding();
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;
};

}  // namespace hc::app
