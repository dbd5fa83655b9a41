// The SOCKS5 message head shared by requests and replies: VER CODE RSV ATYP and the first address
// octet, then the whole message's address.
#include "proto/socks5_head.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <system_error>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
namespace socks5 = hc::proto::socks5;
using hc::proto::Socks5Error;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::test::hex;

namespace {

socks5::Head head_of(const Bytes& message) {
  return socks5::read_head(std::span<const std::uint8_t>(message).first<socks5::kHeadSize>());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks5_head)

BOOST_AUTO_TEST_CASE(head_gives_the_message_length_for_every_address_type) {
  const std::string name255(255, 'n');
  struct Case {
    Bytes message;
    std::string host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {hex("05 00 00 01 c0 a8 00 01 00 50"), "192.168.0.1", 80},
      {hex("05 00 00 04 20010db8000000000000000000000002 01 bb"), "2001:db8::2", 443},
      {concat({hex("05 00 00 03 01"), bytes("b"), hex("00 00")}), "b", 0},
      {concat({hex("05 00 00 03 07"), bytes("bnd.lan"), hex("13 88")}), "bnd.lan", 5000},
      {concat({hex("05 00 00 03 ff"), bytes(name255), hex("ff ff")}), name255, 65535},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("atyp " << int(c.message[3]) << " size " << c.message.size()) {
      const auto head = head_of(c.message);
      BOOST_TEST(!head.address_ec);
      BOOST_TEST(head.size == c.message.size());
      BOOST_TEST(head.size > socks5::kHeadSize);
      const auto decoded = socks5::read_message_address(c.message);
      BOOST_TEST(!decoded.ec);
      BOOST_TEST(decoded.address.host == c.host);
      BOOST_TEST(decoded.address.port == c.port);
    }
  }
}

BOOST_AUTO_TEST_CASE(head_passes_version_and_code_through_and_ignores_reserved) {
  for (const char* text : {"05 01 00 01 7f", "04 03 ff 01 7f", "00 ff 80 01 7f"}) {
    BOOST_TEST_CONTEXT("head " << text) {
      const Bytes message = hex(text);
      const auto head = head_of(message);
      BOOST_TEST(head.version == message[0]);
      BOOST_TEST(head.code == message[1]);
      BOOST_TEST(!head.address_ec);
      BOOST_TEST(head.size == 10u);
    }
  }
}

BOOST_DATA_TEST_CASE(head_unknown_address_type, bdata::make({0x00, 0x02, 0x05, 0x80, 0xFF}), atyp) {
  const Bytes message = concat({hex("05 00 00"), Bytes{static_cast<std::uint8_t>(atyp), 0x07}});
  const auto head = head_of(message);
  BOOST_TEST(head.address_ec == std::error_code(Socks5Error::bad_address_type));
  BOOST_TEST(head.size == 0u);
}

BOOST_AUTO_TEST_CASE(head_empty_domain) {
  const auto head = head_of(hex("05 00 00 03 00"));
  BOOST_TEST(head.address_ec == std::error_code(Socks5Error::empty_domain));
  BOOST_TEST(head.size == 0u);
}

BOOST_AUTO_TEST_CASE(message_address_must_end_the_message) {
  const Bytes whole = hex("05 00 00 01 0a 00 00 01 04 38");
  BOOST_TEST(!socks5::read_message_address(whole).ec);
  // One byte short, one byte over, or not even up to ATYP: never a success.
  BOOST_TEST(socks5::read_message_address(std::span(whole).first(whole.size() - 1)).ec ==
             std::error_code(Socks5Error::bad_address_type));
  BOOST_TEST(socks5::read_message_address(concat({whole, hex("00")})).ec ==
             std::error_code(Socks5Error::bad_address_type));
  BOOST_TEST(socks5::read_message_address(std::span(whole).first(2)).ec ==
             std::error_code(Socks5Error::bad_address_type));
  // The address's own errors come through as they are.
  BOOST_TEST(socks5::read_message_address(hex("05 00 00 03 00 00 50")).ec ==
             std::error_code(Socks5Error::empty_domain));
  BOOST_TEST(socks5::read_message_address(hex("05 00 00 09 00 00 50")).ec ==
             std::error_code(Socks5Error::bad_address_type));
}

BOOST_AUTO_TEST_SUITE_END()
