/// SOCKS5 UDP reply unwrapping (RFC 1928 §7 headers, nested once per hop) over arbitrary bytes.
/// Input: one configuration byte (how many relays to expect, whether the origin is checked),
/// then the datagram. Checked: the payload is the datagram's tail; a datagram cut anywhere
/// inside its headers is never accepted; the header sizes add up.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/socks5_udp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace s5 = hc::proto::socks5;
  using hc::proto::HostPort;
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  // Exact-size copy, so an over-read is a heap overflow under ASan.
  const std::vector<std::uint8_t> bytes(in.rest().begin(), in.rest().end());
  const std::span<const std::uint8_t> datagram(bytes);

  static const HostPort kRelays[] = {{"127.0.0.1", 1080}, {"::1", 1081}, {"relay.example", 1082}};
  static const HostPort kOrigin{"192.0.2.7", 53};
  const std::size_t relays = config % 4;
  const HostPort* origin = (config & 4) ? &kOrigin : nullptr;
  const std::span<const HostPort> expected(kRelays, relays);

  const auto h = s5::decode_udp_header(datagram);
  if (h.drop == s5::UdpDrop::none) {
    HC_FUZZ_CHECK(h.size >= s5::kUdpHeaderMin && h.size <= datagram.size());
  }
  (void)s5::to_string(h.drop);

  const auto u = s5::unwrap_udp(datagram, expected, origin);
  if (u.drop != s5::UdpDrop::none) {
    HC_FUZZ_CHECK(u.layer <= relays);
    HC_FUZZ_CHECK(u.payload.empty());
    return 0;
  }
  // The payload is exactly what follows the headers.
  HC_FUZZ_CHECK(u.payload.data() + u.payload.size() == datagram.data() + datagram.size());
  const std::size_t headers = datagram.size() - u.payload.size();
  HC_FUZZ_CHECK(headers >= (relays + 1) * s5::kUdpHeaderMin);
  if (origin != nullptr) {
    HC_FUZZ_CHECK(s5::udp_address_matches(*origin, u.origin));
  }
  // No cut inside the headers is accepted.
  for (std::size_t n = 0; n < headers; ++n) {
    HC_FUZZ_CHECK(s5::unwrap_udp(datagram.first(n), expected, origin).drop != s5::UdpDrop::none);
  }
  return 0;
}
