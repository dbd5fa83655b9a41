/// A command in its own network namespace whose outgoing TCP lands on capture listeners that
/// hopchain holds. A child process unshares (a user namespace too when not root), sets up lo,
/// routes and nftables rules, opens the capture sockets inside, hands them over (SCM_RIGHTS),
/// waits for the go, drops every capability, and execs the command. The parent stays in the
/// caller's namespace, where its connections to hop 1 go out as usual.
///
/// Seams for the other captures: `extra_setup` (routes, ip rules), `extra_sockets` (a DNS stub,
/// a UDP tproxy socket; opened after the listeners, handed back in order), `extra_rules` (their
/// nftables text) and `resolv_conf` (a file bind-mounted over /etc/resolv.conf in the
/// namespace's private mount namespace).
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/ip/address.hpp>

#include "base/result.hpp"
#include "capture/namespace_errors.hpp"

namespace hc::capture {

/// The namespace's own addresses, on its lo: the source of every connection that leaves it.
asio::ip::address namespace_address_v4();  // 10.255.255.1
asio::ip::address namespace_address_v6();  // fd00:6863:ffff::1

struct NamespacePlan {
  std::vector<std::string> argv;  ///< the command; argv[0] is looked up in PATH
  std::string resolv_conf;        ///< bind-mounted over /etc/resolv.conf; empty: left as it is
  /// Runs in the namespace after lo and the routes, before any socket. Returns what failed, in
  /// words (with the errno's), to stop; empty when all went well.
  std::function<std::string()> extra_setup;
  /// Each opens one socket in the namespace (close-on-exec): the fd, or -errno.
  std::vector<std::function<int()>> extra_sockets;
  /// nftables text added to the capture rules, given the extra sockets in order.
  std::function<std::string(const std::vector<int>& extra_fds)> extra_rules;
};

/// The namespace, its sockets, and its command once started. Moving only. Destroying it before
/// start_command() ends the child, which never runs the command.
class CaptureNamespace {
 public:
  CaptureNamespace(CaptureNamespace&& other) noexcept;
  CaptureNamespace& operator=(CaptureNamespace&&) = delete;
  ~CaptureNamespace();

  /// Forks the child and waits (bounded) until its sockets arrive or it reports a failure.
  static Result<CaptureNamespace, ChildFailure> start(const NamespacePlan& plan);

  /// Lets the child exec the command; returns once it did (or could not: a failure of stage
  /// exec, the child reaped). Call once.
  Result<void, ChildFailure> start_command();

  /// The TCP listeners (127.0.0.1 then, if IPv6 works, [::1]), non-blocking; the caller owns them.
  std::vector<int> take_tcp_listeners() { return std::exchange(tcp_listeners_, {}); }
  /// The plan's extra sockets, in its order; the caller owns them.
  std::vector<int> take_extra_sockets() { return std::exchange(extra_sockets_, {}); }

  pid_t pid() const { return pid_; }
  /// A pidfd for the command (readable once it has exited; it is then to be reaped by the
  /// caller with waitid(P_PIDFD) or waitpid), or -1. Owned by this object.
  int pidfd() const { return pidfd_; }

 private:
  CaptureNamespace(pid_t pid, int channel) : pid_(pid), channel_(channel) {}
  pid_t pid_;
  int channel_;
  int pidfd_ = -1;
  bool started_ = false;
  std::vector<int> tcp_listeners_;
  std::vector<int> extra_sockets_;
};

}  // namespace hc::capture
