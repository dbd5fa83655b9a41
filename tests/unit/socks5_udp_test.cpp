// SOCKS5 UDP headers (RFC 1928 §7): encoding, nested wrap/unwrap round trips, every truncation,
// FRAG != 0, bad address types, names running past the end, and replies naming the wrong relay
// or origin at each layer.
#include "proto/socks5_udp.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "support/codec_driver.hpp"

namespace socks5 = hc::proto::socks5;
using hc::proto::HostPort;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::test::hex;
using socks5::UdpDrop;

namespace hc::proto::socks5 {
// Boost.Test prints the values it compares.
static std::ostream& operator<<(std::ostream& os, UdpDrop d) {
  return os << to_string(d);
}
}  // namespace hc::proto::socks5

namespace {

Bytes header(const HostPort& a) {
  Bytes out;
  BOOST_REQUIRE(!socks5::encode_udp_header(a, out));
  return out;
}

Bytes wrap(const std::vector<HostPort>& addresses, const Bytes& payload) {
  Bytes out;
  BOOST_REQUIRE(!socks5::wrap_udp(addresses, payload, out));
  return out;
}

/// Relays R_2..R_n, then the target (the origin of replies), as a chain of `n` hops would use.
std::vector<HostPort> chain_addresses(std::size_t n) {
  const std::vector<HostPort> pool = {
      {"127.0.0.2", 1081}, {"::1", 1082}, {"relay.example", 1083}, {"10.0.0.4", 1084}};
  std::vector<HostPort> out(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n - 1));
  out.push_back({"192.0.2.7", 53});
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks5_udp)

BOOST_AUTO_TEST_CASE(header_bytes_per_address_type) {
  BOOST_TEST(header({"127.0.0.1", 53}) == hex("00 00 00 01 7f 00 00 01 00 35"));
  BOOST_TEST(header({"::1", 0x1234}) ==
             hex("00 00 00 04 00000000 00000000 00000000 00000001 12 34"));
  BOOST_TEST(header({"ab.c", 80}) == concat({hex("00 00 00 03 04"), bytes("ab.c"), hex("00 50")}));
}

BOOST_AUTO_TEST_CASE(unencodable_names_append_nothing) {
  for (const std::string& bad : {std::string(), std::string(256, 'a'), std::string("a b"),
                                 std::string("a\r\nb"), std::string("a\0b", 3)}) {
    Bytes out = hex("aa");
    BOOST_TEST(static_cast<bool>(socks5::encode_udp_header({bad, 53}, out)));
    BOOST_TEST(out == hex("aa"));
    std::vector<HostPort> list = {{"127.0.0.1", 1}, {bad, 2}};
    BOOST_TEST(!socks5::udp_headers_size(list).has_value());
    BOOST_TEST(static_cast<bool>(socks5::wrap_udp(list, hex("01"), out)));
    BOOST_TEST(out.empty());
  }
  Bytes out;
  BOOST_TEST(!socks5::encode_udp_header({std::string(255, 'a'), 53}, out));
  BOOST_TEST(out.size() == 3u + 1 + 1 + 255 + 2);
}

BOOST_AUTO_TEST_CASE(nested_round_trips) {
  const std::vector<Bytes> payloads = {Bytes{}, hex("00"), bytes("hello"), Bytes(1400, 0xA5)};
  for (std::size_t hops = 1; hops <= 4; ++hops) {
    const auto addresses = chain_addresses(hops);
    for (const auto& payload : payloads) {
      const Bytes datagram = wrap(addresses, payload);
      const auto size = socks5::udp_headers_size(addresses);
      BOOST_REQUIRE(size.has_value());
      BOOST_TEST(datagram.size() == *size + payload.size());

      const std::span<const HostPort> relays(addresses.data(), addresses.size() - 1);
      const auto u = socks5::unwrap_udp(datagram, relays, &addresses.back());
      BOOST_TEST(u.drop == UdpDrop::none);
      BOOST_TEST(u.origin.to_string() == addresses.back().to_string());
      BOOST_TEST(Bytes(u.payload.begin(), u.payload.end()) == payload);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_relays_and_unchecked_origin) {
  const Bytes datagram = wrap({{"198.51.100.9", 4444}}, bytes("x"));
  const auto u = socks5::unwrap_udp(datagram, {}, nullptr);
  BOOST_TEST(u.drop == UdpDrop::none);
  BOOST_TEST(u.origin.to_string() == "198.51.100.9:4444");
  BOOST_TEST(Bytes(u.payload.begin(), u.payload.end()) == bytes("x"));
}

BOOST_AUTO_TEST_CASE(every_truncation_of_the_headers_is_dropped) {
  for (std::size_t hops = 1; hops <= 4; ++hops) {
    const auto addresses = chain_addresses(hops);
    const std::span<const HostPort> relays(addresses.data(), addresses.size() - 1);
    const Bytes datagram = wrap(addresses, Bytes{});
    // Every prefix shorter than all the headers is short at the layer it ends in.
    std::size_t layer_end = 0;
    std::size_t layer = 0;
    for (std::size_t len = 0; len < datagram.size(); ++len) {
      while (len >= layer_end) {
        layer_end += header(addresses[layer]).size();
        ++layer;
      }
      const auto u = socks5::unwrap_udp(std::span(datagram.data(), len), relays, &addresses.back());
      BOOST_TEST_CONTEXT("hops " << hops << " prefix " << len) {
        BOOST_TEST(u.drop == UdpDrop::short_header);
        BOOST_TEST(u.layer == layer - 1);
      }
    }
    // The whole headers and nothing else: an empty payload, which UDP allows.
    const auto u = socks5::unwrap_udp(datagram, relays, &addresses.back());
    BOOST_TEST(u.drop == UdpDrop::none);
    BOOST_TEST(u.payload.empty());
  }
}

BOOST_AUTO_TEST_CASE(fragments_are_dropped_at_every_layer) {
  const auto addresses = chain_addresses(3);
  const std::span<const HostPort> relays(addresses.data(), addresses.size() - 1);
  std::size_t offset = 0;
  for (std::size_t layer = 0; layer < addresses.size(); ++layer) {
    for (const std::uint8_t frag : {0x01, 0x7F, 0x80, 0xFF}) {
      Bytes datagram = wrap(addresses, bytes("payload"));
      datagram[offset + 2] = frag;
      const auto u = socks5::unwrap_udp(datagram, relays, &addresses.back());
      BOOST_TEST(u.drop == UdpDrop::fragmented);
      BOOST_TEST(u.layer == layer);
    }
    offset += header(addresses[layer]).size();
  }
  // RSV is ignored, as in TCP replies.
  Bytes datagram = wrap(addresses, bytes("p"));
  datagram[0] = 0xFF;
  datagram[1] = 0x01;
  BOOST_TEST(socks5::unwrap_udp(datagram, relays, &addresses.back()).drop == UdpDrop::none);
}

BOOST_AUTO_TEST_CASE(bad_address_types_are_dropped) {
  for (const std::uint8_t atyp : {0x00, 0x02, 0x05, 0x7F, 0xFF}) {
    const Bytes datagram = concat({hex("00 00 00"), Bytes{atyp}, hex("7f 00 00 01 00 35 aa")});
    const auto u = socks5::unwrap_udp(datagram, {}, nullptr);
    BOOST_TEST(u.drop == UdpDrop::bad_address_type);
  }
  // In an inner layer too.
  const Bytes inner =
      concat({header({"127.0.0.2", 1081}), hex("00 00 00 09 7f 00 00 01 00 35 aa")});
  const HostPort relay{"127.0.0.2", 1081};
  const auto u = socks5::unwrap_udp(inner, std::span(&relay, 1), nullptr);
  BOOST_TEST(u.drop == UdpDrop::bad_address_type);
  BOOST_TEST(u.layer == 1u);
}

BOOST_AUTO_TEST_CASE(names_of_length_zero_or_past_the_end) {
  BOOST_TEST(socks5::unwrap_udp(hex("00 00 00 03 00 00 35 aa"), {}, nullptr).drop ==
             UdpDrop::empty_domain);
  // Length 200, but only a few bytes follow.
  const Bytes past = concat({hex("00 00 00 03 c8"), bytes("short"), hex("00 35")});
  BOOST_TEST(socks5::unwrap_udp(past, {}, nullptr).drop == UdpDrop::short_header);
  // Length 255 with 254 name bytes and the port: one byte short of the port.
  const Bytes almost = concat({hex("00 00 00 03 ff"), Bytes(254, 'a'), hex("00 35")});
  BOOST_TEST(socks5::unwrap_udp(almost, {}, nullptr).drop == UdpDrop::short_header);
  const Bytes exact = concat({hex("00 00 00 03 ff"), Bytes(255, 'a'), hex("00 35")});
  const auto u = socks5::unwrap_udp(exact, {}, nullptr);
  BOOST_TEST(u.drop == UdpDrop::none);
  BOOST_TEST(u.origin.host == std::string(255, 'a'));
  BOOST_TEST(u.payload.empty());
}

BOOST_AUTO_TEST_CASE(a_wrong_relay_or_origin_is_dropped_at_its_layer) {
  const auto addresses = chain_addresses(4);  // 3 relays (v4, v6, name) and the target
  const std::span<const HostPort> relays(addresses.data(), addresses.size() - 1);
  for (std::size_t layer = 0; layer < addresses.size(); ++layer) {
    for (int variant = 0; variant < 2; ++variant) {
      auto forged = addresses;
      if (variant == 0) {
        forged[layer].port = static_cast<std::uint16_t>(forged[layer].port + 1);
      } else {
        forged[layer].host = forged[layer].host == "::1" ? "::2" : "203.0.113.1";
      }
      const Bytes datagram = wrap(forged, bytes("spoof"));
      const auto u = socks5::unwrap_udp(datagram, relays, &addresses.back());
      const bool name_layer = addresses[layer].host == "relay.example";
      BOOST_TEST_CONTEXT("layer " << layer << " variant " << variant) {
        if (name_layer && variant == 1) {
          // We sent a name: the hop answers with whatever address it resolved; only the port
          // can be checked.
          BOOST_TEST(u.drop == UdpDrop::none);
        } else {
          BOOST_TEST(u.drop == UdpDrop::unexpected_address);
          BOOST_TEST(u.layer == layer);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(address_matching) {
  BOOST_TEST(socks5::udp_address_matches({"127.0.0.1", 53}, {"127.0.0.1", 53}));
  BOOST_TEST(socks5::udp_address_matches({"127.0.0.1", 53}, {"::ffff:127.0.0.1", 53}));
  BOOST_TEST(socks5::udp_address_matches({"::ffff:127.0.0.1", 53}, {"127.0.0.1", 53}));
  BOOST_TEST(socks5::udp_address_matches({"::1", 53}, {"0:0::1", 53}));
  BOOST_TEST(!socks5::udp_address_matches({"127.0.0.1", 53}, {"127.0.0.1", 54}));
  BOOST_TEST(!socks5::udp_address_matches({"127.0.0.1", 53}, {"127.0.0.2", 53}));
  BOOST_TEST(!socks5::udp_address_matches({"127.0.0.1", 53}, {"localhost", 53}));
  BOOST_TEST(!socks5::udp_address_matches({"::1", 53}, {"127.0.0.1", 53}));
  BOOST_TEST(socks5::udp_address_matches({"dns.example", 53}, {"192.0.2.1", 53}));
  BOOST_TEST(socks5::udp_address_matches({"dns.example", 53}, {"DNS.Example", 53}));
  BOOST_TEST(!socks5::udp_address_matches({"dns.example", 53}, {"other.example", 53}));
  BOOST_TEST(!socks5::udp_address_matches({"dns.example", 53}, {"192.0.2.1", 5353}));
}

BOOST_AUTO_TEST_CASE(decode_reports_header_size) {
  const Bytes d = concat({header({"::1", 9}), bytes("rest")});
  const auto h = socks5::decode_udp_header(d);
  BOOST_TEST(h.drop == UdpDrop::none);
  BOOST_TEST(h.size == 22u);
  BOOST_TEST(h.address.to_string() == "[::1]:9");
  BOOST_TEST(socks5::decode_udp_header(hex("00 00")).drop == UdpDrop::short_header);
  BOOST_TEST(socks5::decode_udp_header(hex("00 00 00")).drop == UdpDrop::short_header);
  BOOST_TEST(socks5::decode_udp_header(hex("00 00 01")).drop == UdpDrop::fragmented);
}

BOOST_AUTO_TEST_SUITE_END()
