#include "capture/udp_tproxy.hpp"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hc::capture {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

int family_of(int fd) {
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0) {
    return AF_UNSPEC;
  }
  return local.ss_family;
}

std::error_code set_flag(int fd, int level, int name) {
  const int on = 1;
  if (::setsockopt(fd, level, name, &on, sizeof on) != 0) {
    return last_error();
  }
  return {};
}

/// IP_TRANSPARENT on an IPv4 socket; on an IPv6 one IPV6_TRANSPARENT too, since a dual-stack
/// socket takes (and sends) IPv4 datagrams under the IPv4 option.
std::error_code set_transparent(int fd, bool v6) {
  if (v6) {
    if (auto ec = set_flag(fd, SOL_IPV6, IPV6_TRANSPARENT)) {
      return ec;
    }
  }
  return set_flag(fd, SOL_IP, IP_TRANSPARENT);
}

UdpEndpoint from_sockaddr(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    return {asio::ip::address_v4(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
  asio::ip::address_v6 v6(bytes);
  if (v6.is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, v6), ntohs(in6.sin6_port)};
  }
  return {v6, ntohs(in6.sin6_port)};
}

/// The original destination in the ancillary data, if the kernel put one there.
bool find_destination(msghdr& message, UdpEndpoint& destination) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR;
    const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR;
    if (v4 || v6) {
      sockaddr_storage address{};
      const std::size_t size = c->cmsg_len - CMSG_LEN(0);
      std::memcpy(&address, CMSG_DATA(c), std::min(size, sizeof address));
      destination = from_sockaddr(address);
      return true;
    }
  }
  return false;
}

/// One non-blocking recvmsg: EAGAIN when nothing is waiting.
Result<CapturedDatagram, std::error_code> receive_now(int fd, std::span<std::uint8_t> buffer) {
  sockaddr_storage source{};
  iovec io{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[256];
  msghdr message{};
  message.msg_name = &source;
  message.msg_namelen = sizeof source;
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &message, MSG_DONTWAIT);
  if (n < 0) {
    return failure(last_error());
  }
  if ((message.msg_flags & MSG_TRUNC) != 0) {
    return failure(std::error_code(EMSGSIZE, std::system_category()));
  }
  CapturedDatagram datagram;
  datagram.size = static_cast<std::size_t>(n);
  datagram.source = from_sockaddr(source);
  if (!find_destination(message, datagram.destination)) {
    return failure(std::error_code(EPROTO, std::system_category()));
  }
  return datagram;
}

}  // namespace

std::error_code make_tproxy_target(int fd) {
  const bool v6 = family_of(fd) == AF_INET6;
  if (auto ec = set_transparent(fd, v6)) {
    return ec;
  }
  if (v6) {
    if (auto ec = set_flag(fd, SOL_IPV6, IPV6_RECVORIGDSTADDR)) {
      return ec;
    }
  }
  return set_flag(fd, SOL_IP, IP_RECVORIGDSTADDR);
}

int open_udp_tproxy_fd(const UdpEndpoint& listen) {
  const bool v6 = listen.address().is_v6();
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return -errno;
  }
  std::error_code ec;
  if (v6 && listen.address().is_unspecified()) {
    const int off = 0;  // `*`: IPv4 too
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) {
      ec = last_error();
    }
  }
  if (!ec) {
    ec = make_tproxy_target(fd);
  }
  if (!ec && ::bind(fd, listen.data(), static_cast<socklen_t>(listen.size())) != 0) {
    ec = last_error();
  }
  if (ec) {
    ::close(fd);
    return -ec.value();
  }
  const int buffer = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  return fd;
}

asio::ip::udp::socket adopt_udp_socket(const asio::any_io_executor& ex,
                                       const asio::ip::udp& protocol, int fd, std::error_code& ec) {
  asio::ip::udp::socket socket(ex);
  if (fd < 0) {
    ec = std::error_code(-fd, std::system_category());
    return socket;
  }
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
  }
  return socket;
}

asio::ip::udp::socket open_udp_tproxy(const asio::any_io_executor& ex, const UdpEndpoint& listen,
                                      std::error_code& ec) {
  return adopt_udp_socket(ex, listen.protocol(), open_udp_tproxy_fd(listen), ec);
}

awaitable<Result<CapturedDatagram, std::error_code>> receive_captured(
    asio::ip::udp::socket& socket, std::span<std::uint8_t> buffer) {
  for (;;) {
    auto received = receive_now(socket.native_handle(), buffer);
    if (received ||
        (received.error().value() != EAGAIN && received.error().value() != EWOULDBLOCK)) {
      co_return received;
    }
    auto [ec] = co_await socket.async_wait(asio::socket_base::wait_read, nothrow);
    if (ec) {
      co_return failure(ec);
    }
  }
}

int open_reply_fd(const UdpEndpoint& destination) {
  const bool v6 = destination.address().is_v6();
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return -errno;
  }
  std::error_code ec = set_transparent(fd, v6);
  if (!ec) {
    ec = set_flag(fd, SOL_SOCKET, SO_REUSEADDR);
  }
  if (!ec && ::bind(fd, destination.data(), static_cast<socklen_t>(destination.size())) != 0) {
    ec = last_error();
  }
  if (ec) {
    ::close(fd);
    return -ec.value();
  }
  return fd;
}

asio::ip::udp::socket open_reply_socket(const asio::any_io_executor& ex,
                                        const UdpEndpoint& destination, std::error_code& ec) {
  return adopt_udp_socket(ex, destination.protocol(), open_reply_fd(destination), ec);
}

}  // namespace hc::capture
