/// Linux NETLINK_SOCK_DIAG (inet_diag) as a codec over bytes: the dump request for every TCP or
/// UDP socket of one address family, the parse of the kernel's answer, and the matching that
/// says which user owns a given local endpoint. No socket here: udp/socket_owner does the I/O.
///
/// Addresses are kept in IPv6 form: an AF_INET socket's address is stored IPv4-mapped
/// (::ffff:a.b.c.d), so that a v4 endpoint compares alike with AF_INET sockets and with dual-stack
/// AF_INET6 ones.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace hc::proto::sock_diag {

using Address = std::array<std::uint8_t, 16>;

/// `a.b.c.d` as ::ffff:a.b.c.d.
Address v4_mapped(std::array<std::uint8_t, 4> v4);
bool is_v4_mapped(const Address& a);

struct Endpoint {
  Address ip{};
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

enum class Transport : std::uint8_t { tcp, udp };

/// One socket of a dump, as the kernel described it.
struct SocketInfo {
  int family = 0;  ///< AF_INET or AF_INET6
  Endpoint local;
  Endpoint remote;
  std::uint32_t uid = 0;
  std::uint8_t state = 0;  ///< TCP state numbering (UDP: 7 unconnected, 1 connected)
  bool v6only = false;     ///< AF_INET6 only; the kernel reports it for unconnected sockets
};

/// A NLM_F_DUMP request (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2) for every `transport` socket of
/// `family` whose state is in the `states` bit mask (1 << state).
std::vector<std::uint8_t> dump_request(int family, Transport transport, std::uint32_t states,
                                       std::uint32_t sequence);

enum class DumpStatus : std::uint8_t {
  more,       ///< every message parsed; the dump goes on in the next read
  done,       ///< NLMSG_DONE: the dump is complete
  failed,     ///< NLMSG_ERROR: `error` holds the kernel's errno
  malformed,  ///< a truncated or inconsistent message
};
struct DumpChunk {
  DumpStatus status = DumpStatus::more;
  int error = 0;
};

/// Parses one read of the kernel's answer to the request numbered `sequence`, appending the
/// sockets it describes to `out`. Messages of another sequence are skipped.
DumpChunk parse_dump(std::span<const std::uint8_t> bytes, std::uint32_t sequence,
                     std::vector<SocketInfo>& out);

enum class OwnerStatus : std::uint8_t {
  found,      ///< `uid` owns the endpoint
  none,       ///< no socket matches
  ambiguous,  ///< several sockets match, owned by different users
};
struct Owner {
  OwnerStatus status = OwnerStatus::none;
  std::uint32_t uid = 0;
};

/// The owner of the TCP socket whose local end is `local` and whose peer is `remote` (a
/// connection's other end, seen from its own host).
Owner tcp_owner(std::span<const SocketInfo> sockets, const Endpoint& local, const Endpoint& remote);

/// The owner of the UDP socket(s) that can send from `sender`: bound to that address and port,
/// or to the wildcard address of a family that reaches it (a dual-stack AF_INET6 socket for an
/// IPv4 sender, unless it is v6-only). Several matching sockets (SO_REUSEADDR) must agree.
Owner udp_sender_owner(std::span<const SocketInfo> sockets, const Endpoint& sender);

}  // namespace hc::proto::sock_diag
