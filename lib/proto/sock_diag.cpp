#include "proto/sock_diag.hpp"

#include <algorithm>
#include <cstring>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>

namespace hc::proto::sock_diag {
namespace {

constexpr std::size_t kHeader = sizeof(nlmsghdr);

std::uint16_t be16(std::uint16_t network) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(&network);
  return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

/// The kernel's address words, in the IPv6 form used here.
Address address_of(int family, const __be32 (&words)[4]) {
  Address a{};
  if (family == AF_INET) {
    std::array<std::uint8_t, 4> v4{};
    std::memcpy(v4.data(), &words[0], 4);
    return v4_mapped(v4);
  }
  std::memcpy(a.data(), words, 16);
  return a;
}

bool all_zero(const Address& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

/// INET_DIAG_SKV6ONLY among the attributes after an inet_diag_msg, if present.
bool v6only_attribute(std::span<const std::uint8_t> attributes) {
  while (attributes.size() >= sizeof(rtattr)) {
    rtattr rta{};
    std::memcpy(&rta, attributes.data(), sizeof rta);
    if (rta.rta_len < sizeof rta || rta.rta_len > attributes.size()) {
      return false;
    }
    if (rta.rta_type == INET_DIAG_SKV6ONLY && rta.rta_len > sizeof rta) {
      return attributes[sizeof rta] != 0;
    }
    const std::size_t step = NLMSG_ALIGN(rta.rta_len);
    if (step >= attributes.size()) {
      return false;
    }
    attributes = attributes.subspan(step);
  }
  return false;
}

std::optional<SocketInfo> socket_of(std::span<const std::uint8_t> payload) {
  inet_diag_msg m{};
  if (payload.size() < sizeof m) {
    return std::nullopt;
  }
  std::memcpy(&m, payload.data(), sizeof m);
  if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6) {
    return std::nullopt;
  }
  SocketInfo s;
  s.family = m.idiag_family;
  s.state = m.idiag_state;
  s.uid = m.idiag_uid;
  s.local = {address_of(s.family, m.id.idiag_src), be16(m.id.idiag_sport)};
  s.remote = {address_of(s.family, m.id.idiag_dst), be16(m.id.idiag_dport)};
  s.v6only = s.family == AF_INET6 && v6only_attribute(payload.subspan(NLMSG_ALIGN(sizeof m)));
  return s;
}

/// The single owner of every socket `matches` accepts.
template <typename Match>
Owner owner_of(std::span<const SocketInfo> sockets, Match matches) {
  Owner owner;
  for (const SocketInfo& s : sockets) {
    if (!matches(s)) {
      continue;
    }
    if (owner.status == OwnerStatus::found && owner.uid != s.uid) {
      return Owner{OwnerStatus::ambiguous, 0};
    }
    owner = Owner{OwnerStatus::found, s.uid};
  }
  return owner;
}

}  // namespace

Address v4_mapped(std::array<std::uint8_t, 4> v4) {
  Address a{};
  a[10] = 0xff;
  a[11] = 0xff;
  std::copy(v4.begin(), v4.end(), a.begin() + 12);
  return a;
}

bool is_v4_mapped(const Address& a) {
  return std::all_of(a.begin(), a.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
         a[10] == 0xff && a[11] == 0xff;
}

std::vector<std::uint8_t> dump_request(int family, Transport transport, std::uint32_t states,
                                       std::uint32_t sequence) {
  nlmsghdr h{};
  inet_diag_req_v2 req{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof req));
  h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h.nlmsg_seq = sequence;
  req.sdiag_family = static_cast<std::uint8_t>(family);
  req.sdiag_protocol = transport == Transport::tcp ? IPPROTO_TCP : IPPROTO_UDP;
  req.idiag_states = states;
  std::vector<std::uint8_t> out(h.nlmsg_len, 0);
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, &req, sizeof req);
  return out;
}

DumpChunk parse_dump(std::span<const std::uint8_t> bytes, std::uint32_t sequence,
                     std::vector<SocketInfo>& out) {
  while (!bytes.empty()) {
    nlmsghdr h{};
    if (bytes.size() < kHeader) {
      return {DumpStatus::malformed, 0};
    }
    std::memcpy(&h, bytes.data(), kHeader);
    if (h.nlmsg_len < kHeader || h.nlmsg_len > bytes.size()) {
      return {DumpStatus::malformed, 0};
    }
    const auto payload = bytes.subspan(NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
    if (h.nlmsg_seq == sequence) {
      if (h.nlmsg_type == NLMSG_DONE) {
        return {DumpStatus::done, 0};
      }
      if (h.nlmsg_type == NLMSG_ERROR) {
        int error = 0;
        if (payload.size() < sizeof error) {
          return {DumpStatus::malformed, 0};
        }
        std::memcpy(&error, payload.data(), sizeof error);
        return {DumpStatus::failed, -error};
      }
      if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        auto s = socket_of(payload);
        if (!s) {
          return {DumpStatus::malformed, 0};
        }
        out.push_back(*s);
      }
    }
    bytes = bytes.subspan(std::min<std::size_t>(NLMSG_ALIGN(h.nlmsg_len), bytes.size()));
  }
  return {DumpStatus::more, 0};
}

Owner tcp_owner(std::span<const SocketInfo> sockets, const Endpoint& local,
                const Endpoint& remote) {
  return owner_of(sockets,
                  [&](const SocketInfo& s) { return s.local == local && s.remote == remote; });
}

Owner udp_sender_owner(std::span<const SocketInfo> sockets, const Endpoint& sender) {
  const bool v4 = is_v4_mapped(sender.ip);
  return owner_of(sockets, [&](const SocketInfo& s) {
    if (s.local.port != sender.port) {
      return false;
    }
    if (s.local.ip == sender.ip) {
      return true;
    }
    if (s.family == AF_INET) {
      return v4 && s.local.ip == v4_mapped({0, 0, 0, 0});
    }
    return all_zero(s.local.ip) && (!v4 || !s.v6only);
  });
}

}  // namespace hc::proto::sock_diag
