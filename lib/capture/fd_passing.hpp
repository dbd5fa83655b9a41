/// One message, and the descriptors that go with it, over a local SOCK_SEQPACKET socket
/// (SCM_RIGHTS). The capture namespace's child hands its sockets to the parent this way: a
/// socket stays in the namespace it was created in, whoever holds it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/result.hpp"

namespace hc::capture {

struct Message {
  std::string bytes;     ///< empty: the peer closed its end
  std::vector<int> fds;  ///< received close-on-exec; the receiver owns them
};

/// Sends `bytes` (not empty) with `fds` attached (at most 16).
std::error_code send_message(int socket, std::string_view bytes, std::span<const int> fds = {});

/// Waits up to `timeout_ms` (-1: no bound) for one message. ETIMEDOUT when none came.
Result<Message, std::error_code> receive_message(int socket, int timeout_ms);

}  // namespace hc::capture
