/// Why a capture namespace could not be built, or its command not started, in words that name
/// the cause and the fix. Pure functions over what the child reported and the sysctl values
/// read, so that every message is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hc::capture {

/// The step of the namespace child that failed.
enum class Stage : std::uint8_t {
  user_namespace,     ///< unshare(CLONE_NEWUSER)
  id_map,             ///< writing uid_map, setgroups, gid_map
  network_namespace,  ///< unshare(CLONE_NEWNET | CLONE_NEWNS)
  loopback,           ///< lo up, its address, the default routes
  rules,              ///< the nftables ruleset
  capture_socket,     ///< a listener (or an extra socket) inside the namespace
  extra_setup,        ///< a caller's own setup step (routes for UDP capture, ...)
  resolv_conf,        ///< the bind mount over /etc/resolv.conf
  capabilities,       ///< dropping the capabilities a root CMD would keep
  exec,               ///< execvp of the command
};

/// What the child reports: the stage, errno (0 when `detail` says it all) and a detail.
struct ChildFailure {
  Stage stage = Stage::exec;
  int error = 0;
  std::string detail;
};

/// The sysctls that forbid unprivileged user namespaces; nullopt when the file is absent.
struct UsernsSettings {
  std::optional<long> max_user_namespaces;        ///< user.max_user_namespaces
  std::optional<long> unprivileged_userns_clone;  ///< kernel.unprivileged_userns_clone (Debian)
  std::optional<long> apparmor_restrict;          ///< kernel.apparmor_restrict_unprivileged_userns
};

UsernsSettings read_userns_settings();

/// The whole message for `failure` (without the "hopchain: exec: " prefix).
std::string describe(const ChildFailure& failure, const UsernsSettings& settings);

/// The exit status for `failure`: 127 for a command not found, 126 for one that cannot be
/// executed (as a shell), 2 for everything that went wrong before the command could start.
int exit_status(const ChildFailure& failure);

}  // namespace hc::capture
