/// What a refusing HTTP proxy says after its status line. Its body usually names the cause
/// ("tinyproxy was unable to connect to the remote web server."), and it follows the head at
/// once, the proxy closing the connection after it: reading it costs little, bounded in time
/// and size, and only ever on a refusal.
#pragma once

#include <chrono>
#include <string>

#include "proto/step.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"

namespace hc::chain {

/// The summary (proto::refusal_summary) of the body behind `codec`'s refusing head: the bytes
/// the codec already holds, then what `stream` delivers within `wait`, up to
/// proto::kRefusalBodyLimit. Empty when the body says nothing more than the status line.
awaitable<std::string> refusal_words(transport::Stream& stream, const proto::Handshake& codec,
                                     std::string status_line, std::chrono::milliseconds wait);

}  // namespace hc::chain
