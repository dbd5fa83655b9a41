/// Where a redirected connection was going. nftables `redirect` (and iptables REDIRECT) rewrites
/// the destination of a connection's packets to a local listener; conntrack remembers the
/// address the program asked for, and SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST read it back from
/// the accepted socket. This is the only way to learn it: the accepted socket's local address is
/// the listener's own.
#pragma once

#include <system_error>

#include <asio/ip/tcp.hpp>

#include "base/result.hpp"

namespace hc::capture {

/// The original destination of an accepted, redirected TCP connection. An error (ENOENT) when
/// the connection was not redirected (a client that connected to the listener directly).
Result<asio::ip::tcp::endpoint, std::error_code> original_destination(int accepted_fd);

/// True when `destination` is the address the connection was accepted at (the accepted socket's
/// local endpoint): a client that connected to the listener itself, directly or through a rule
/// that matched the listener's own traffic. Following it would connect the listener to itself,
/// over and over.
bool is_own_listener(const asio::ip::tcp::endpoint& destination,
                     const asio::ip::tcp::endpoint& accepted_at);

}  // namespace hc::capture
