#include "capture/original_destination.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace hc::capture {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

/// The address family of the accepted socket decides which table conntrack is asked.
Result<int, std::error_code> family_of(int fd) {
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0) {
    return failure(last_error());
  }
  return static_cast<int>(local.ss_family);
}

/// An IPv4 client on a dual-stack listener is an IPv4-mapped IPv6 address; conntrack knows it
/// as IPv4.
bool is_v4_mapped(int fd) {
  sockaddr_in6 peer{};
  socklen_t size = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) == 0 &&
         peer.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr);
}

Result<asio::ip::tcp::endpoint, std::error_code> original_v4(int fd) {
  sockaddr_in original{};
  socklen_t size = sizeof original;
  if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &original, &size) != 0) {
    return failure(last_error());
  }
  return asio::ip::tcp::endpoint(asio::ip::address_v4(ntohl(original.sin_addr.s_addr)),
                                 ntohs(original.sin_port));
}

Result<asio::ip::tcp::endpoint, std::error_code> original_v6(int fd) {
  sockaddr_in6 original{};
  socklen_t size = sizeof original;
  if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &original, &size) != 0) {
    return failure(last_error());
  }
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &original.sin6_addr, bytes.size());
  return asio::ip::tcp::endpoint(asio::ip::address_v6(bytes), ntohs(original.sin6_port));
}

}  // namespace

Result<asio::ip::tcp::endpoint, std::error_code> original_destination(int accepted_fd) {
  auto family = family_of(accepted_fd);
  if (!family) {
    return failure(family.error());
  }
  if (*family == AF_INET || is_v4_mapped(accepted_fd)) {
    return original_v4(accepted_fd);
  }
  return original_v6(accepted_fd);
}

bool is_own_listener(const asio::ip::tcp::endpoint& destination,
                     const asio::ip::tcp::endpoint& accepted_at) {
  auto plain = [](const asio::ip::address& address) -> asio::ip::address {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address;
  };
  return destination.port() == accepted_at.port() &&
         plain(destination.address()) == plain(accepted_at.address());
}

}  // namespace hc::capture
