/// The kernel's sock_diag answer (proto/sock_diag) over arbitrary bytes: netlink messages of
/// any length, type and sequence. Checked: no read outside the input; a socket is reported only
/// for a message long enough to hold one; every socket parsed is found by the owner lookups.
#include <cstddef>
#include <cstdint>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/sock_diag.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace diag = hc::proto::sock_diag;
  // Exact-size copy, so an over-read is a heap overflow under ASan.
  const std::vector<std::uint8_t> bytes(data, data + size);
  std::vector<diag::SocketInfo> sockets;
  const auto chunk = diag::parse_dump(bytes, 1, sockets);
  HC_FUZZ_CHECK(sockets.size() * (NLMSG_HDRLEN + sizeof(inet_diag_msg)) <= bytes.size());
  (void)chunk;
  // Every socket parsed owns its own endpoints: the lookups find it (alone or with others).
  for (const auto& s : sockets) {
    HC_FUZZ_CHECK(diag::tcp_owner(sockets, s.local, s.remote).status != diag::OwnerStatus::none);
    HC_FUZZ_CHECK(diag::udp_sender_owner(sockets, s.local).status != diag::OwnerStatus::none);
  }
  return 0;
}
