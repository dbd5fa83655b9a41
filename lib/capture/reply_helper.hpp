/// The maker of exec's UDP reply sockets. A reply to a captured datagram must leave from the
/// destination the program sent to: a socket bound there with IP_TRANSPARENT, which only a
/// process with CAP_NET_ADMIN in the command's network namespace may make. hopchain is not in
/// that namespace, and unprivileged it cannot enter it (setns needs CAP_SYS_ADMIN in its own
/// user namespace). So the namespace's process starts a helper before the command: a sibling of
/// the command (a child of hopchain, not of the command, which must never see an unknown child),
/// holding only the network capabilities, that makes such sockets on request and hands them over
/// (SCM_RIGHTS). It ends when hopchain closes its channel, or dies.
#pragma once

#include <memory>
#include <mutex>
#include <sys/types.h>
#include <system_error>

#include "capture/udp_tproxy.hpp"

namespace hc::capture {

/// In the namespace's process, while it holds its capabilities: starts the helper and returns
/// hopchain's end of its channel (close-on-exec), or -errno.
int start_reply_helper();

/// hopchain's side of the channel. Shared by the flows of the capture; thread-safe.
class ReplySocketHelper {
 public:
  /// Takes `channel` and waits (bounded) for the helper's hello. nullptr and `ec` on failure.
  static std::shared_ptr<ReplySocketHelper> connect(int channel, std::error_code& ec);

  ReplySocketHelper(const ReplySocketHelper&) = delete;
  ReplySocketHelper& operator=(const ReplySocketHelper&) = delete;
  /// Closes the channel, upon which the helper exits, and reaps it.
  ~ReplySocketHelper();

  /// A socket bound to `destination` (open_reply_fd, made in the namespace): the fd, or -errno.
  /// A helper that does not answer in time is given up: every later call fails too.
  int open(const UdpEndpoint& destination);

 private:
  ReplySocketHelper(int channel, pid_t pid) : channel_(channel), pid_(pid) {}
  void close_channel();

  std::mutex mutex_;
  int channel_;
  pid_t pid_;
};

}  // namespace hc::capture
