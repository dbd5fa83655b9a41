/// Datagrams that nftables `tproxy` (iptables TPROXY) sent to a local socket, with the address
/// they were sent to. The kernel delivers them unchanged, so the destination the program asked
/// for is not the socket's own address: IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR hand it over
/// with each datagram. Replies must seem to come from that destination, so they leave from a
/// socket bound to it, which IP_TRANSPARENT allows for an address that is not this host's.
/// Both options need CAP_NET_ADMIN (or CAP_NET_RAW) in the socket's network namespace.
#pragma once

#include <cstdint>
#include <span>
#include <system_error>

#include <asio/ip/udp.hpp>

#include "base/result.hpp"
#include "transport/asio.hpp"

namespace hc::capture {

using UdpEndpoint = asio::ip::udp::endpoint;

/// Makes the open UDP socket `fd` (of either family) a tproxy target: IP_TRANSPARENT and
/// IP_RECVORIGDSTADDR, and their IPv6 twins on an IPv6 socket. EPERM without the capability.
/// For a socket made elsewhere (exec's namespace) before it is bound.
std::error_code make_tproxy_target(int fd);

/// Opens, sets up (make_tproxy_target) and binds a UDP socket on `listen` (`[::]`: both
/// families), close-on-exec and non-blocking: the fd, or -errno. Made in the calling process's
/// network namespace.
int open_udp_tproxy_fd(const UdpEndpoint& listen);

/// An fd-or-negative-errno from the openers here (or made elsewhere) as an asio socket of
/// `protocol`. On failure `ec` is set and nothing stays open.
asio::ip::udp::socket adopt_udp_socket(const asio::any_io_executor& ex,
                                       const asio::ip::udp& protocol, int fd, std::error_code& ec);

/// open_udp_tproxy_fd as an asio socket. On failure `ec` is set.
asio::ip::udp::socket open_udp_tproxy(const asio::any_io_executor& ex, const UdpEndpoint& listen,
                                      std::error_code& ec);

struct CapturedDatagram {
  std::size_t size = 0;     ///< payload bytes, at the start of the caller's buffer
  UdpEndpoint source;       ///< the program's socket
  UdpEndpoint destination;  ///< where it sent the datagram
};

/// Receives one datagram from `socket` (a tproxy target) with its original destination. An
/// error is the socket's, or EPROTO for a datagram that came without one (sent to the socket
/// directly, not by a rule), or EMSGSIZE for one larger than `buffer` (dropped).
awaitable<Result<CapturedDatagram, std::error_code>> receive_captured(
    asio::ip::udp::socket& socket, std::span<std::uint8_t> buffer);

/// A socket whose datagrams leave from `destination` (IP_TRANSPARENT, SO_REUSEADDR: every flow
/// to the same destination binds the same address), close-on-exec and non-blocking: the fd, or
/// -errno. Made in the calling process's network namespace.
int open_reply_fd(const UdpEndpoint& destination);

/// open_reply_fd as an asio socket. On failure `ec` is set.
asio::ip::udp::socket open_reply_socket(const asio::any_io_executor& ex,
                                        const UdpEndpoint& destination, std::error_code& ec);

}  // namespace hc::capture
