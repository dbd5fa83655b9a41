/// Which local user owns a socket, asked of the kernel (NETLINK_SOCK_DIAG): a SOCKS client on
/// this host may use its UDP relay only from a socket of its own user, since every local user
/// shares the loopback address (udp/socks_client.hpp).
///
/// Each lookup dumps the TCP or UDP sockets of both families (an IPv4 sender may use a
/// dual-stack IPv6 socket) and matches the endpoint here (proto/sock_diag.hpp). The calls block:
/// a dump takes well under a millisecond on a normal host, and every read is bounded in time and
/// the whole dump in size.
#pragma once

#include <cstdint>
#include <string>

#include "transport/asio.hpp"

namespace hc::udp {

struct SocketOwner {
  bool found = false;  ///< `uid` is the owner
  std::uint32_t uid = 0;
  std::string error;  ///< when not found: why ("no socket of this host has it", a netlink error)
  bool lookup_failed = false;  ///< the kernel could not be asked (as opposed to no such socket)
};

/// The owner of the TCP connection whose end on this host is `local`, connected to `remote`.
SocketOwner tcp_socket_owner(const asio::ip::tcp::endpoint& local,
                             const asio::ip::tcp::endpoint& remote);

/// The owner of the UDP socket that can send from `sender` (an address of this host).
SocketOwner udp_socket_owner(const asio::ip::udp::endpoint& sender);

}  // namespace hc::udp
