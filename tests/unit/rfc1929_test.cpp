// RFC 1929 username/password sub-negotiation: request encoding and reply parsing.
#include "proto/rfc1929.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::Credentials;
using hc::proto::Socks5Error;
using hc::test::Bytes;
using hc::test::hex;
using hc::test::to_hex;
namespace rfc1929 = hc::proto::rfc1929;

namespace {

std::error_code parse(std::uint8_t ver, std::uint8_t status) {
  const std::array<std::uint8_t, rfc1929::kReplySize> reply{ver, status};
  return rfc1929::parse_reply(reply);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rfc1929_codec)

BOOST_AUTO_TEST_CASE(encodes_user_and_password) {
  Bytes out;
  BOOST_TEST(!rfc1929::encode_request({"user", "pass"}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("01 04 75 73 65 72 04 70 61 73 73")));
}

BOOST_AUTO_TEST_CASE(appends_to_existing_bytes) {
  Bytes out = hex("05 01 02");
  BOOST_TEST(!rfc1929::encode_request({"u", "p"}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("05 01 02 01 01 75 01 70")));
}

BOOST_AUTO_TEST_CASE(accepts_255_byte_fields) {
  const std::string user(255, 'u');
  const std::string password(255, 'p');
  Bytes out;
  BOOST_TEST(!rfc1929::encode_request({user, password}, out));
  BOOST_TEST_REQUIRE(out.size() == 1u + 1 + 255 + 1 + 255);
  BOOST_TEST(out[0] == 0x01);
  BOOST_TEST(out[1] == 0xFF);
  BOOST_TEST(out[2 + 255] == 0xFF);
  BOOST_TEST(std::string(out.begin() + 2, out.begin() + 2 + 255) == user);
  BOOST_TEST(std::string(out.begin() + 3 + 255, out.end()) == password);
}

BOOST_AUTO_TEST_CASE(passes_arbitrary_bytes_through) {
  // RFC 1929 puts no restriction on the octets; NUL and non-ASCII are sent as-is.
  Bytes out;
  BOOST_TEST(!rfc1929::encode_request({std::string("a\0b", 3), "\xC3\xA9"}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("01 03 61 00 62 02 c3 a9")));
}

BOOST_AUTO_TEST_CASE(rejects_bad_lengths_and_leaves_output_alone) {
  struct Case {
    Credentials creds;
    Socks5Error expected;
  };
  const Case cases[] = {
      {{"", "p"}, Socks5Error::empty_user},
      {{std::string(256, 'u'), "p"}, Socks5Error::user_too_long},
      {{std::string(65535, 'u'), "p"}, Socks5Error::user_too_long},
      {{"u", ""}, Socks5Error::empty_password},
      {{"u", std::string(256, 'p')}, Socks5Error::password_too_long},
      {{"", ""}, Socks5Error::empty_user},
  };
  for (const auto& c : cases) {
    Bytes out = hex("aa");
    BOOST_TEST(rfc1929::encode_request(c.creds, out) == std::error_code(c.expected));
    BOOST_TEST(to_hex(out) == "aa");
  }
}

BOOST_AUTO_TEST_CASE(reply_version_1_status_0_succeeds) {
  BOOST_TEST(!parse(0x01, 0x00));
}

BOOST_DATA_TEST_CASE(reply_with_wrong_version_is_rejected, bdata::make({0x00, 0x02, 0x05, 0xFF}),
                     ver) {
  // Version is checked first, whatever the status says.
  BOOST_TEST(parse(static_cast<std::uint8_t>(ver), 0x00) ==
             std::error_code(Socks5Error::auth_bad_version));
  BOOST_TEST(parse(static_cast<std::uint8_t>(ver), 0x01) ==
             std::error_code(Socks5Error::auth_bad_version));
}

BOOST_DATA_TEST_CASE(reply_with_nonzero_status_fails, bdata::make({0x01, 0x02, 0x7F, 0xFF}),
                     status) {
  const auto ec = parse(0x01, static_cast<std::uint8_t>(status));
  BOOST_TEST(ec == std::error_code(Socks5Error::auth_failed));
  BOOST_TEST(ec.message().find("rejected") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
