/// The child side of CaptureNamespace (namespace.hpp): everything between fork and exec, and
/// the few bytes it says to the parent. Internal to lib/capture.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include "capture/namespace.hpp"

namespace hc::capture::detail {

/// The child's messages: 'F' a failure (stage, errno, detail); 'R' ready, with the sockets
/// attached and the count of TCP listeners among them. The parent's only message is 'G' (go).
std::string encode_failure(const ChildFailure& failure);
std::optional<ChildFailure> decode_failure(const std::string& bytes);

struct ChildContext {
  const NamespacePlan& plan;
  int channel;  ///< close-on-exec: the parent reads EOF once the command is running
  uid_t uid;    ///< the caller's, mapped to themselves in the user namespace
  gid_t gid;
};

/// Sets up the namespace, hands over the sockets, waits for the go and execs the command.
/// Never returns: on any failure it reports it and exits.
[[noreturn]] void run_namespace_child(const ChildContext& context);

}  // namespace hc::capture::detail
