#include "capture/namespace_child.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "capture/fd_passing.hpp"
#include "capture/nft_rules.hpp"
#include "capture/rtnetlink.hpp"

namespace hc::capture::detail {

std::string encode_failure(const ChildFailure& failure) {
  std::string bytes = "F";
  bytes += static_cast<char>(failure.stage);
  bytes.append(reinterpret_cast<const char*>(&failure.error), sizeof failure.error);
  return bytes + failure.detail;
}

std::optional<ChildFailure> decode_failure(const std::string& bytes) {
  constexpr std::size_t kHead = 2 + sizeof(int);
  if (bytes.size() < kHead || bytes[0] != 'F' ||
      static_cast<unsigned char>(bytes[1]) > static_cast<unsigned char>(Stage::exec)) {
    return std::nullopt;
  }
  ChildFailure failure;
  failure.stage = static_cast<Stage>(bytes[1]);
  std::memcpy(&failure.error, bytes.data() + 2, sizeof failure.error);
  failure.detail = bytes.substr(kHead);
  return failure;
}

namespace {

/// Reports the failure to the parent and ends the child.
[[noreturn]] void fail(int channel, Stage stage, int error, const std::string& detail) {
  const ChildFailure failure{stage, error, detail};
  (void)send_message(channel, encode_failure(failure));
  ::_exit(exit_status(failure));
}

int write_file(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int error = written ? 0 : errno;
  ::close(fd);
  return error;
}

/// A user namespace in which the caller's uid and gid map to themselves: the command keeps its
/// identity, and, not being uid 0 there, loses every capability at exec.
void enter_user_namespace(const ChildContext& context) {
  if (::unshare(CLONE_NEWUSER) != 0) {
    fail(context.channel, Stage::user_namespace, errno, "");
  }
  // setgroups must be denied before an unprivileged process may write gid_map.
  if (const int error = write_file("/proc/self/setgroups", "deny"); error != 0 && error != ENOENT) {
    fail(context.channel, Stage::id_map, error, "/proc/self/setgroups");
  }
  const std::string uid = std::to_string(context.uid);
  const std::string gid = std::to_string(context.gid);
  if (const int error = write_file("/proc/self/uid_map", uid + " " + uid + " 1\n")) {
    fail(context.channel, Stage::id_map, error, "/proc/self/uid_map");
  }
  if (const int error = write_file("/proc/self/gid_map", gid + " " + gid + " 1\n")) {
    fail(context.channel, Stage::id_map, error, "/proc/self/gid_map");
  }
}

/// lo up with the namespace's addresses, and the default routes through it. IPv6 is set up
/// unless the kernel has none; returns whether it was.
bool set_up_loopback(int channel) {
  if (const std::error_code ec = bring_loopback_up()) {
    fail(channel, Stage::loopback, ec.value(), "lo up");
  }
  const asio::ip::address v4 = namespace_address_v4();
  if (const std::error_code ec = add_loopback_address(v4, 32)) {
    fail(channel, Stage::loopback, ec.value(), "address " + v4.to_string() + "/32 on lo");
  }
  if (const std::error_code ec = add_default_route_to_loopback(v4)) {
    fail(channel, Stage::loopback, ec.value(), "default route dev lo src " + v4.to_string());
  }
  const asio::ip::address v6 = namespace_address_v6();
  if (const std::error_code ec = add_loopback_address(v6, 128)) {
    if (ec.value() == EAFNOSUPPORT) {
      return false;
    }
    fail(channel, Stage::loopback, ec.value(), "address " + v6.to_string() + "/128 on lo");
  }
  if (const std::error_code ec = add_default_route_to_loopback(v6)) {
    fail(channel, Stage::loopback, ec.value(), "default route dev lo src " + v6.to_string());
  }
  return true;
}

/// A listener on loopback:port (0: any free port); the fd, or -errno.
int open_listener(bool v6, std::uint16_t port) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return -errno;
  }
  sockaddr_storage address{};
  socklen_t size = 0;
  if (v6) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(address);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    in6.sin6_addr = in6addr_loopback;
    size = sizeof in6;
    const int only = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
  } else {
    auto& in4 = reinterpret_cast<sockaddr_in&>(address);
    in4.sin_family = AF_INET;
    in4.sin_port = htons(port);
    in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size = sizeof in4;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    ::close(fd);
    return -error;
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  return address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(address).sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in&>(address).sin_port);
}

/// The capture listeners, then the plan's extra sockets; returns the count of listeners.
std::size_t open_sockets(const ChildContext& context, bool v6, std::vector<int>& fds) {
  const int v4_listener = open_listener(false, 0);
  if (v4_listener < 0) {
    fail(context.channel, Stage::capture_socket, -v4_listener, "TCP listener on 127.0.0.1");
  }
  fds.push_back(v4_listener);
  if (v6) {
    // The same port as IPv4 when it is free: one number in logs for both.
    int v6_listener = open_listener(true, local_port(v4_listener));
    v6_listener = v6_listener >= 0 ? v6_listener : open_listener(true, 0);
    if (v6_listener < 0) {
      fail(context.channel, Stage::capture_socket, -v6_listener, "TCP listener on [::1]");
    }
    fds.push_back(v6_listener);
  }
  const std::size_t listeners = fds.size();
  for (const auto& open_extra : context.plan.extra_sockets) {
    const int fd = open_extra();
    if (fd < 0) {
      fail(context.channel, Stage::capture_socket, -fd, "extra socket");
    }
    fds.push_back(fd);
  }
  return listeners;
}

void install_rules(const ChildContext& context, const std::vector<int>& fds,
                   std::size_t listeners) {
  const std::uint16_t v4_port = local_port(fds[0]);
  const std::uint16_t v6_port = listeners > 1 ? local_port(fds[1]) : v4_port;
  std::string extra;
  if (context.plan.extra_rules) {
    extra = context.plan.extra_rules(
        std::vector<int>(fds.begin() + static_cast<std::ptrdiff_t>(listeners), fds.end()));
  }
  if (auto applied = apply_ruleset(capture_ruleset(v4_port, v6_port, extra)); !applied) {
    fail(context.channel, Stage::rules, 0, applied.error());
  }
}

/// The plan's resolv.conf over /etc/resolv.conf, seen by this mount namespace only: mounts are
/// made private first, so that nothing propagates back to the caller's namespace.
void mount_resolv_conf(const ChildContext& context) {
  const std::string& file = context.plan.resolv_conf;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    fail(context.channel, Stage::resolv_conf, errno, "making / private");
  }
  if (::mount(file.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
    fail(context.channel, Stage::resolv_conf, errno, file + " over /etc/resolv.conf");
  }
}

int last_capability() {
  const int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char text[16] = {};
  const ssize_t size = fd >= 0 ? ::read(fd, text, sizeof text - 1) : -1;
  if (fd >= 0) {
    ::close(fd);
  }
  return size > 0 ? std::atoi(text) : CAP_LAST_CAP;
}

/// Empties the bounding, ambient and inheritable sets, so that the command has no capability
/// after exec even as uid 0 (root without a user namespace).
void drop_capabilities(int channel) {
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      fail(channel, Stage::capabilities, errno, "bounding set");
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    fail(channel, Stage::capabilities, errno, "ambient set");
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) {
    fail(channel, Stage::capabilities, errno, "capget");
  }
  for (auto& word : data) {
    word.inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    fail(channel, Stage::capabilities, errno, "inheritable set");
  }
}

/// execvp reports EACCES when a PATH directory cannot be searched, even if the command is in
/// none of them; a shell says "not found" then, and so do we: EACCES stays only for a file
/// that exists.
int exec_error(const std::string& name, int error) {
  if (error != EACCES || name.find('/') != std::string::npos) {
    return error;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', at), dirs.size());
    const std::string dir = end > at ? dirs.substr(at, end - at) : ".";
    struct stat file {};
    if (::stat((dir + "/" + name).c_str(), &file) == 0 && S_ISREG(file.st_mode)) {
      return error;
    }
    at = end + 1;
  }
  return ENOENT;
}

[[noreturn]] void exec_command(const ChildContext& context) {
  drop_capabilities(context.channel);
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  for (const std::string& arg : context.plan.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  const std::string& name = context.plan.argv[0];
  fail(context.channel, Stage::exec, exec_error(name, errno), name);
}

}  // namespace

void run_namespace_child(const ChildContext& context) {
  // Until the go, the child has no reason to outlive a parent that died.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::geteuid() != 0) {
    enter_user_namespace(context);
  }
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    fail(context.channel, Stage::network_namespace, errno, "unshare");
  }
  const bool v6 = set_up_loopback(context.channel);
  if (context.plan.extra_setup) {
    if (const std::string failed = context.plan.extra_setup(); !failed.empty()) {
      fail(context.channel, Stage::extra_setup, 0, failed);
    }
  }
  std::vector<int> fds;
  const std::size_t listeners = open_sockets(context, v6, fds);
  install_rules(context, fds, listeners);
  if (!context.plan.resolv_conf.empty()) {
    mount_resolv_conf(context);
  }
  const std::string ready = std::string("R") + static_cast<char>(listeners);
  if (send_message(context.channel, ready, fds)) {
    ::_exit(2);
  }
  auto go = receive_message(context.channel, -1);
  if (!go || go->bytes != "G") {
    ::_exit(2);  // the parent gave up (or died): nobody waits for this command
  }
  exec_command(context);
}

}  // namespace hc::capture::detail
