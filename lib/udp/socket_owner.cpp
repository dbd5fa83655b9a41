#include "udp/socket_owner.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "proto/sock_diag.hpp"

namespace hc::udp {
namespace {

namespace diag = proto::sock_diag;

// A host with a million sockets answers in about 100 MiB; past this the answer is not trusted.
constexpr std::size_t kMaxDumpBytes = std::size_t{128} << 20;
constexpr std::size_t kReadSize = 64 * 1024;
constexpr timeval kReadTimeout{1, 0};

std::string errno_text(const char* what, int e) {
  return std::string(what) + ": " + std::strerror(e);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

diag::Endpoint endpoint_of(const asio::ip::address& address, std::uint16_t port) {
  if (address.is_v4()) {
    return {diag::v4_mapped(address.to_v4().to_bytes()), port};
  }
  return {address.to_v6().to_bytes(), port};
}

/// Reads the answer to request `sequence` into `out`; "" once complete, else why not.
std::string read_dump(int fd, std::uint32_t sequence, std::vector<diag::SocketInfo>& out) {
  std::vector<std::uint8_t> buffer(kReadSize);
  std::size_t total = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int e = errno;
      return e == EAGAIN || e == EWOULDBLOCK ? "sock_diag: no answer within 1 s"
                                             : errno_text("sock_diag: recv", e);
    }
    if (static_cast<std::size_t>(n) > buffer.size()) {
      return "sock_diag: an answer larger than " + std::to_string(buffer.size()) + " bytes";
    }
    total += static_cast<std::size_t>(n);
    if (total > kMaxDumpBytes) {
      return "sock_diag: the socket list exceeds " + std::to_string(kMaxDumpBytes >> 20) + " MiB";
    }
    const auto chunk =
        diag::parse_dump({buffer.data(), static_cast<std::size_t>(n)}, sequence, out);
    switch (chunk.status) {
      case diag::DumpStatus::done:
        return "";
      case diag::DumpStatus::failed:
        return errno_text("sock_diag", chunk.error);
      case diag::DumpStatus::malformed:
        return "sock_diag: a malformed answer";
      case diag::DumpStatus::more:
        break;
    }
  }
}

/// Every `transport` socket of both families in the `states` mask; "" or why the kernel could
/// not be asked.
std::string dump(diag::Transport transport, std::uint32_t states,
                 std::vector<diag::SocketInfo>& out) {
  const Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) {
    return errno_text("cannot open a NETLINK_SOCK_DIAG socket", errno);
  }
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &kReadTimeout, sizeof kReadTimeout) != 0) {
    return errno_text("sock_diag: SO_RCVTIMEO", errno);
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::uint32_t sequence = 0;
  for (const int family : {AF_INET, AF_INET6}) {
    const auto request = diag::dump_request(family, transport, states, ++sequence);
    const ssize_t sent = ::sendto(fd.get(), request.data(), request.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent != static_cast<ssize_t>(request.size())) {
      return errno_text("sock_diag: send", errno);
    }
    std::string error = read_dump(fd.get(), sequence, out);
    if (!error.empty()) {
      return error;
    }
  }
  return "";
}

SocketOwner verdict(const diag::Owner& owner, const std::string& what) {
  SocketOwner result;
  switch (owner.status) {
    case diag::OwnerStatus::found:
      result.found = true;
      result.uid = owner.uid;
      break;
    case diag::OwnerStatus::none:
      result.error = "no socket of this host has " + what;
      break;
    case diag::OwnerStatus::ambiguous:
      result.error = "sockets of different users share " + what;
      break;
  }
  return result;
}

SocketOwner failed(std::string error) {
  SocketOwner result;
  result.error = std::move(error);
  result.lookup_failed = true;
  return result;
}

}  // namespace

SocketOwner tcp_socket_owner(const asio::ip::tcp::endpoint& local,
                             const asio::ip::tcp::endpoint& remote) {
  std::vector<diag::SocketInfo> sockets;
  // The client's end of a live connection; its FIN may already be on the way.
  const std::uint32_t states = 1U << TCP_ESTABLISHED | 1U << TCP_FIN_WAIT1 | 1U << TCP_FIN_WAIT2;
  if (std::string error = dump(diag::Transport::tcp, states, sockets); !error.empty()) {
    return failed(std::move(error));
  }
  return verdict(diag::tcp_owner(sockets, endpoint_of(local.address(), local.port()),
                                 endpoint_of(remote.address(), remote.port())),
                 "that TCP connection");
}

SocketOwner udp_socket_owner(const asio::ip::udp::endpoint& sender) {
  std::vector<diag::SocketInfo> sockets;
  if (std::string error = dump(diag::Transport::udp, ~0U, sockets); !error.empty()) {
    return failed(std::move(error));
  }
  return verdict(diag::udp_sender_owner(sockets, endpoint_of(sender.address(), sender.port())),
                 "that UDP port");
}

}  // namespace hc::udp
