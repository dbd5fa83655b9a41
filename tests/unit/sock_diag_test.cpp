// proto::sock_diag over bytes: the dump request's layout, the parse of kernel answers built
// here (sockets of both families, the v6-only attribute, DONE, ERROR, other sequences, truncated
// messages), and which user owns a TCP connection's end or a UDP sender's endpoint.
#include "proto/sock_diag.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace diag = hc::proto::sock_diag;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint32_t kSeq = 7;

void append(Bytes& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  out.insert(out.end(), b, b + n);
  out.resize(NLMSG_ALIGN(out.size()), 0);
}

Bytes header(std::uint16_t type, std::size_t payload, std::uint32_t seq = kSeq) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload));
  h.nlmsg_type = type;
  h.nlmsg_seq = seq;
  Bytes out;
  append(out, &h, sizeof h);
  return out;
}

struct Sock {
  int family = AF_INET;
  Bytes local;  // 4 or 16 bytes
  std::uint16_t lport = 0;
  Bytes remote;
  std::uint16_t rport = 0;
  std::uint32_t uid = 0;
  std::uint8_t state = 7;
  int v6only = -1;  // -1: no attribute
};

Bytes message(const Sock& s, std::uint32_t seq = kSeq) {
  inet_diag_msg m{};
  m.idiag_family = static_cast<std::uint8_t>(s.family);
  m.idiag_state = s.state;
  m.id.idiag_sport = htons(s.lport);
  m.id.idiag_dport = htons(s.rport);
  std::memcpy(m.id.idiag_src, s.local.data(), s.local.size());
  std::memcpy(m.id.idiag_dst, s.remote.data(), s.remote.size());
  m.idiag_uid = s.uid;
  Bytes attrs;
  if (s.v6only >= 0) {
    rtattr a{};
    a.rta_len = RTA_LENGTH(1);
    a.rta_type = INET_DIAG_SKV6ONLY;
    const std::uint8_t value[4] = {static_cast<std::uint8_t>(s.v6only), 0, 0, 0};
    Bytes raw(sizeof a + 4);
    std::memcpy(raw.data(), &a, sizeof a);
    std::memcpy(raw.data() + sizeof a, value, 4);
    attrs = raw;
  }
  Bytes out = header(SOCK_DIAG_BY_FAMILY, NLMSG_ALIGN(sizeof m) + attrs.size(), seq);
  append(out, &m, sizeof m);
  out.insert(out.end(), attrs.begin(), attrs.end());
  return out;
}

Bytes done(std::uint32_t seq = kSeq) {
  Bytes out = header(NLMSG_DONE, sizeof(int), seq);
  const int zero = 0;
  append(out, &zero, sizeof zero);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

const Bytes kLo4 = {127, 0, 0, 1};
const Bytes kAny4 = {0, 0, 0, 0};
const Bytes kLo6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Bytes kAny6(16, 0);

diag::Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                  std::uint16_t port) {
  return {diag::v4_mapped({a, b, c, d}), port};
}

diag::Endpoint v6_loopback(std::uint16_t port) {
  diag::Address a{};
  a[15] = 1;
  return {a, port};
}

std::vector<diag::SocketInfo> parsed(const Bytes& answer) {
  std::vector<diag::SocketInfo> out;
  const auto chunk = diag::parse_dump(answer, kSeq, out);
  BOOST_TEST((chunk.status == diag::DumpStatus::done));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sock_diag)

BOOST_AUTO_TEST_CASE(dump_request_layout) {
  const Bytes r = diag::dump_request(AF_INET6, diag::Transport::udp, 0xFFFFFFFF, 42);
  BOOST_REQUIRE(r.size() == NLMSG_LENGTH(sizeof(inet_diag_req_v2)));
  nlmsghdr h{};
  std::memcpy(&h, r.data(), sizeof h);
  BOOST_TEST(h.nlmsg_len == r.size());
  BOOST_TEST(h.nlmsg_type == SOCK_DIAG_BY_FAMILY);
  BOOST_TEST(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
  BOOST_TEST(h.nlmsg_seq == 42u);
  inet_diag_req_v2 req{};
  std::memcpy(&req, r.data() + NLMSG_HDRLEN, sizeof req);
  BOOST_TEST(req.sdiag_family == AF_INET6);
  BOOST_TEST(req.sdiag_protocol == IPPROTO_UDP);
  BOOST_TEST(req.idiag_states == 0xFFFFFFFFu);
  BOOST_TEST(req.id.idiag_sport == 0);  // a dump: no socket named
  const Bytes t = diag::dump_request(AF_INET, diag::Transport::tcp, 2, 1);
  std::memcpy(&req, t.data() + NLMSG_HDRLEN, sizeof req);
  BOOST_TEST(req.sdiag_family == AF_INET);
  BOOST_TEST(req.sdiag_protocol == IPPROTO_TCP);
  BOOST_TEST(req.idiag_states == 2u);
}

BOOST_AUTO_TEST_CASE(parse_sockets_of_both_families) {
  const auto sockets = parsed(concat({
      message({AF_INET, kLo4, 40000, kLo4, 1080, 1000, 1}),
      message({AF_INET6, kAny6, 5353, kAny6, 0, 65534, 7, 1}),
      done(),
  }));
  BOOST_REQUIRE(sockets.size() == 2u);
  BOOST_TEST(sockets[0].family == AF_INET);
  BOOST_TEST((sockets[0].local == v4(127, 0, 0, 1, 40000)));  // IPv4 kept IPv4-mapped
  BOOST_TEST((sockets[0].remote == v4(127, 0, 0, 1, 1080)));
  BOOST_TEST(sockets[0].uid == 1000u);
  BOOST_TEST(sockets[0].state == 1);
  BOOST_TEST(!sockets[0].v6only);
  BOOST_TEST(sockets[1].family == AF_INET6);
  BOOST_TEST(sockets[1].local.port == 5353);
  BOOST_TEST(sockets[1].uid == 65534u);
  BOOST_TEST(sockets[1].v6only);
}

BOOST_AUTO_TEST_CASE(parse_chunks_errors_and_other_sequences) {
  std::vector<diag::SocketInfo> out;
  // A chunk without DONE: more to read. Another sequence's message is skipped.
  auto chunk = diag::parse_dump(concat({message({AF_INET, kLo4, 1, kAny4, 0, 5}),
                                        message({AF_INET, kLo4, 2, kAny4, 0, 6}, kSeq + 1)}),
                                kSeq, out);
  BOOST_TEST((chunk.status == diag::DumpStatus::more));
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].uid == 5u);
  chunk = diag::parse_dump(done(kSeq + 1), kSeq, out);
  BOOST_TEST((chunk.status == diag::DumpStatus::more));
  // The kernel's refusal: NLMSG_ERROR with a negative errno.
  Bytes error = header(NLMSG_ERROR, sizeof(nlmsgerr));
  nlmsgerr e{};
  e.error = -EPERM;
  append(error, &e, sizeof e);
  chunk = diag::parse_dump(error, kSeq, out);
  BOOST_TEST((chunk.status == diag::DumpStatus::failed));
  BOOST_TEST(chunk.error == EPERM);
  // Truncated: a length past the bytes, a header cut short, a socket message too short.
  Bytes cut = message({AF_INET, kLo4, 1, kAny4, 0, 5});
  cut.resize(cut.size() - 8);
  BOOST_TEST((diag::parse_dump(cut, kSeq, out).status == diag::DumpStatus::malformed));
  BOOST_TEST((diag::parse_dump(Bytes(8, 0), kSeq, out).status == diag::DumpStatus::malformed));
  Bytes tiny = header(SOCK_DIAG_BY_FAMILY, 4);
  tiny.resize(tiny.size() + 4, 0);
  BOOST_TEST((diag::parse_dump(tiny, kSeq, out).status == diag::DumpStatus::malformed));
  // An attribute whose length runs past the message is ignored, not read.
  Bytes bad_attr = message({AF_INET6, kAny6, 9, kAny6, 0, 1, 7, 1});
  bad_attr[bad_attr.size() - 8] = 200;  // rta_len
  out.clear();
  BOOST_TEST((diag::parse_dump(bad_attr, kSeq, out).status == diag::DumpStatus::more));
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(!out[0].v6only);
}

BOOST_AUTO_TEST_CASE(tcp_owner_matches_both_ends) {
  const auto sockets = parsed(concat({
      // The server's accepted socket (root) and the client's end (uid 1000).
      message({AF_INET, kLo4, 1080, kLo4, 40000, 0, 1}),
      message({AF_INET, kLo4, 40000, kLo4, 1080, 1000, 1}),
      done(),
  }));
  auto o = diag::tcp_owner(sockets, v4(127, 0, 0, 1, 40000), v4(127, 0, 0, 1, 1080));
  BOOST_TEST((o.status == diag::OwnerStatus::found));
  BOOST_TEST(o.uid == 1000u);
  o = diag::tcp_owner(sockets, v4(127, 0, 0, 1, 40001), v4(127, 0, 0, 1, 1080));
  BOOST_TEST((o.status == diag::OwnerStatus::none));
}

BOOST_AUTO_TEST_CASE(udp_sender_owner_by_binding) {
  const auto sockets = parsed(concat({
      message({AF_INET, kLo4, 5000, kAny4, 0, 1000}),          // 127.0.0.1:5000
      message({AF_INET, kAny4, 5001, kAny4, 0, 1001}),         // 0.0.0.0:5001
      message({AF_INET6, kAny6, 5002, kAny6, 0, 1002, 7, 0}),  // [::]:5002, dual-stack
      message({AF_INET6, kAny6, 5003, kAny6, 0, 1003, 7, 1}),  // [::]:5003, v6-only
      message({AF_INET6, kLo6, 5004, kAny6, 0, 1004, 7, 1}),   // [::1]:5004
      message({AF_INET, kLo4, 5005, kAny4, 0, 1005}),          // two sockets share 5005 (reuse),
      message({AF_INET, kAny4, 5005, kAny4, 0, 1006}),         // owned by different users
      message({AF_INET, kLo4, 5006, kAny4, 0, 1007}),          // and 5006,
      message({AF_INET6, kAny6, 5006, kAny6, 0, 1008, 7, 1}),  // v6-only: cannot send v4
      done(),
  }));
  const auto owner = [&](const diag::Endpoint& e) { return diag::udp_sender_owner(sockets, e); };
  const auto uid_of = [&](const diag::Endpoint& e) {
    const auto o = owner(e);
    return o.status == diag::OwnerStatus::found ? static_cast<long>(o.uid) : -1L;
  };
  BOOST_TEST(uid_of(v4(127, 0, 0, 1, 5000)) == 1000);
  BOOST_TEST(uid_of(v4(127, 0, 0, 2, 5000)) == -1);  // bound to another address
  BOOST_TEST(uid_of(v4(127, 0, 0, 9, 5001)) == 1001);
  BOOST_TEST(uid_of(v6_loopback(5001)) == -1);  // an AF_INET socket sends no IPv6
  BOOST_TEST(uid_of(v4(127, 0, 0, 1, 5002)) == 1002);
  BOOST_TEST(uid_of(v6_loopback(5002)) == 1002);
  BOOST_TEST(uid_of(v4(127, 0, 0, 1, 5003)) == -1);
  BOOST_TEST(uid_of(v6_loopback(5003)) == 1003);
  BOOST_TEST(uid_of(v6_loopback(5004)) == 1004);
  BOOST_TEST(uid_of(v4(127, 0, 0, 1, 5009)) == -1);
  BOOST_TEST((owner(v4(127, 0, 0, 1, 5005)).status == diag::OwnerStatus::ambiguous));
  BOOST_TEST(uid_of(v4(127, 0, 0, 1, 5006)) == 1007);
}

BOOST_AUTO_TEST_SUITE_END()
