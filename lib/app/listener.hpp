/// Listening sockets and per-connection task hygiene shared by the front ends that accept
/// connections (forward, socks).
#pragma once

#include <exception>
#include <string>
#include <system_error>

#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// Opens, binds and listens on `listen`: an IP literal, or host "" (written `*`) for every
/// address, IPv6 and IPv4. On failure `ec` is set and the acceptor is closed. `share_port`:
/// SO_REUSEPORT, for several event loops of this process listening on the same port.
tcp::acceptor open_listener(const asio::any_io_executor& ex, const proto::HostPort& listen,
                            std::error_code& ec, bool share_port = false);

/// "127.0.0.1:1080", "[::1]:1080", or "*:1080" for every address.
std::string listen_text(const proto::HostPort& listen);

/// The co_spawn completion handler of a connection's task: an exception ends that connection
/// only, and is logged rather than dropped.
void log_task_end(std::exception_ptr e);

}  // namespace hc::app
