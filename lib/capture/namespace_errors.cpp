#include "capture/namespace_errors.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hc::capture {
namespace {

std::optional<long> read_number(const char* path) {
  std::ifstream file(path);
  long value = 0;
  if (file >> value) {
    return value;
  }
  return std::nullopt;
}

std::string error_text(int error) {
  return error == 0 ? std::string() : std::string(std::strerror(error));
}

/// unshare(CLONE_NEWUSER) refused: which setting forbids it, and how to allow it.
std::string explain_userns(int error, const UsernsSettings& settings) {
  std::string text = "cannot create a user namespace (" + error_text(error) + "): ";
  if (settings.max_user_namespaces && *settings.max_user_namespaces == 0) {
    text +=
        "user.max_user_namespaces is 0; allow them with `sysctl -w user.max_user_namespaces=15000`";
  } else if (settings.unprivileged_userns_clone && *settings.unprivileged_userns_clone == 0) {
    text +=
        "kernel.unprivileged_userns_clone is 0; allow them with `sysctl -w "
        "kernel.unprivileged_userns_clone=1`";
  } else if (settings.apparmor_restrict && *settings.apparmor_restrict != 0) {
    text +=
        "AppArmor restricts them (kernel.apparmor_restrict_unprivileged_userns=1); allow them "
        "with `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile "
        "for hopchain with `userns,`";
  } else if (error == ENOSPC) {
    text += "the limit user.max_user_namespaces is reached; raise it with sysctl";
  } else {
    text +=
        "unprivileged user namespaces are forbidden here (a container or seccomp policy?); check "
        "user.max_user_namespaces, kernel.unprivileged_userns_clone and "
        "kernel.apparmor_restrict_unprivileged_userns";
  }
  return text + ". Running hopchain as root (sudo) works without them";
}

}  // namespace

UsernsSettings read_userns_settings() {
  return {read_number("/proc/sys/user/max_user_namespaces"),
          read_number("/proc/sys/kernel/unprivileged_userns_clone"),
          read_number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")};
}

std::string describe(const ChildFailure& failure, const UsernsSettings& settings) {
  const std::string cause =
      failure.detail + (failure.error == 0 ? "" : ": " + error_text(failure.error));
  switch (failure.stage) {
    case Stage::user_namespace:
      return explain_userns(failure.error, settings);
    case Stage::id_map:
      return "cannot map the user and group ids into the user namespace (" + cause + ")";
    case Stage::network_namespace:
      return "cannot create the network and mount namespaces (" + cause + ")";
    case Stage::loopback:
      return "cannot set up the namespace's loopback (" + cause + ")";
    case Stage::rules:
      return "cannot install the capture rules: " + cause;
    case Stage::capture_socket:
      return "cannot open a capture socket in the namespace (" + cause + ")";
    case Stage::extra_setup:
      return "cannot set up the namespace (" + cause + ")";
    case Stage::resolv_conf:
      return "cannot bind-mount the namespace's resolv.conf (" + cause + ")";
    case Stage::capabilities:
      return "cannot drop the command's capabilities (" + cause + ")";
    case Stage::exec:
      if (failure.error == ENOENT) {
        return failure.detail + ": command not found";
      }
      return failure.detail + ": cannot execute (" + error_text(failure.error) + ")";
  }
  return cause;
}

int exit_status(const ChildFailure& failure) {
  if (failure.stage != Stage::exec) {
    return 2;
  }
  return failure.error == ENOENT ? 127 : 126;
}

}  // namespace hc::capture
