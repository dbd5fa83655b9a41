// SOCKS4 and SOCKS4a CONNECT: request bytes, reply parsing, and the step sequence.
#include "proto/socks4.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::HostPort;
using hc::proto::kSocks4ReplySize;
using hc::proto::Socks4Connect;
using hc::proto::Socks4Error;
using hc::proto::Stage;
using hc::proto::Step;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::test::drive;
using hc::test::hex;
using hc::test::kind;
using hc::test::kWhole;
using hc::test::to_hex;

namespace {

const Bytes kFredRequest = hex("04 01 00 50 42 66 07 63 46 72 65 64 00");
const Bytes kGranted = hex("00 5A 00 00 00 00 00 00");

std::error_code encode_error(const HostPort& target, const std::string& userid, bool allow_name) {
  Bytes out;
  auto ec = Socks4Connect::encode(target, userid, allow_name, out);
  if (ec) {
    BOOST_TEST(out.empty());
  }
  return ec;
}

// start() must fail at once with `expected`, stage request, without sending anything.
void expect_rejected_up_front(const HostPort& target, const std::string& userid, bool allow_name,
                              Socks4Error expected) {
  BOOST_TEST(encode_error(target, userid, allow_name) == std::error_code(expected));
  Socks4Connect codec(target, userid, allow_name);
  const auto r = drive(codec, kGranted);
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(expected));
  BOOST_TEST(to_string(r.stage) == "request");
  BOOST_TEST(r.sent.empty());
  BOOST_TEST(r.consumed == 0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks4_codec)

BOOST_AUTO_TEST_CASE(classic_fred_example_byte_for_byte) {
  // The example from the SOCKS4 protocol description.
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({"66.102.7.99", 80}, "Fred", false, out));
  BOOST_TEST(to_hex(out) == to_hex(kFredRequest));

  Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  const auto r = drive(codec, hex("00 5A 12 34 de ad be ef"));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) == to_hex(kFredRequest));
  BOOST_TEST(r.consumed == 8u);
  BOOST_TEST(r.leftover.empty());
}

BOOST_AUTO_TEST_CASE(step_sequence) {
  Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  auto step = codec.start();
  BOOST_TEST(kind(step.kind) == "send");
  BOOST_TEST(to_string(step.stage) == "request");
  BOOST_TEST(to_hex(step.bytes) == to_hex(kFredRequest));

  step = codec.resume({});
  BOOST_TEST(kind(step.kind) == "recv_exactly");
  BOOST_TEST(step.size == kSocks4ReplySize);
  BOOST_TEST(to_string(step.stage) == "request");

  step = codec.resume(kGranted);
  BOOST_TEST(kind(step.kind) == "done");
  // Resuming a finished codec changes nothing.
  BOOST_TEST(kind(codec.resume({}).kind) == "done");
}

BOOST_AUTO_TEST_CASE(reply_delivered_in_pieces) {
  Socks4Connect codec({"66.102.7.99", 80}, "", false);
  const auto r = hc::test::deliver_byte_by_byte(codec, kGranted);
  BOOST_TEST(r.all_exact);
  const std::vector<std::size_t> expected = {8, 7, 6, 5, 4, 3, 2, 1};
  BOOST_TEST(r.asked == expected, boost::test_tools::per_element());
  BOOST_TEST(kind(r.last.kind) == "done");
  BOOST_TEST(r.consumed == kGranted.size());
}

BOOST_AUTO_TEST_CASE(more_bytes_than_asked_for_is_refused) {
  Socks4Connect codec({"66.102.7.99", 80}, "", false);
  codec.start();
  codec.resume({});
  const Bytes too_much = concat({kGranted, hex("ff")});
  const auto step = codec.resume(too_much);
  BOOST_TEST(kind(step.kind) == "fail");
  BOOST_TEST(step.ec == std::make_error_code(std::errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(empty_userid) {
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({"10.0.0.1", 22}, "", false, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("04 01 00 16 0a 00 00 01 00")));
}

BOOST_AUTO_TEST_CASE(port_is_big_endian) {
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({"1.2.3.4", 0xABCD}, "", false, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("04 01 ab cd 01 02 03 04 00")));
  out.clear();
  BOOST_TEST(!Socks4Connect::encode({"255.255.255.255", 65535}, "", false, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("04 01 ff ff ff ff ff ff 00")));
}

BOOST_AUTO_TEST_CASE(socks4a_sends_the_name_after_the_userid) {
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({"example.com", 443}, "Fred", true, out));
  BOOST_TEST(to_hex(out) == to_hex(concat({hex("04 01 01 bb 00 00 00 01"), bytes("Fred"), hex("00"),
                                           bytes("example.com"), hex("00")})));

  Socks4Connect codec({"example.com", 443}, "", true);
  const auto r = drive(codec, kGranted);
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) ==
             to_hex(concat({hex("04 01 01 bb 00 00 00 01 00"), bytes("example.com"), hex("00")})));
}

BOOST_AUTO_TEST_CASE(socks4a_still_sends_ipv4_literals_as_addresses) {
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({"66.102.7.99", 80}, "Fred", true, out));
  BOOST_TEST(to_hex(out) == to_hex(kFredRequest));
}

BOOST_AUTO_TEST_CASE(socks4a_accepts_a_255_byte_name) {
  const std::string name(255, 'a');
  Bytes out;
  BOOST_TEST(!Socks4Connect::encode({name, 80}, "", true, out));
  BOOST_TEST(to_hex(out) ==
             to_hex(concat({hex("04 01 00 50 00 00 00 01 00"), bytes(name), hex("00")})));
}

BOOST_AUTO_TEST_CASE(non_dotted_quad_is_a_name) {
  // Only a strict dotted quad is an address; "1.2.3" and "01.2.3.4" are names to SOCKS4a.
  for (const char* host : {"1.2.3", "1.2.3.4.5", "256.1.1.1", "0x7f.0.0.1", "01.2.3.4"}) {
    BOOST_TEST_CONTEXT("host " << host) {
      expect_rejected_up_front({host, 80}, "", false, Socks4Error::name_target);
      Bytes out;
      BOOST_TEST(!Socks4Connect::encode({host, 80}, "", true, out));
      BOOST_TEST(to_hex(std::span(out).first(8)) == to_hex(hex("04 01 00 50 00 00 00 01")));
    }
  }
}

BOOST_AUTO_TEST_CASE(ipv6_target_is_refused) {
  for (bool allow_name : {false, true}) {
    expect_rejected_up_front({"::1", 80}, "", allow_name, Socks4Error::ipv6_target);
    expect_rejected_up_front({"2001:db8::1", 80}, "", allow_name, Socks4Error::ipv6_target);
  }
}

BOOST_AUTO_TEST_CASE(name_without_socks4a_is_refused) {
  expect_rejected_up_front({"example.com", 80}, "Fred", false, Socks4Error::name_target);
}

BOOST_AUTO_TEST_CASE(overlong_names_are_refused) {
  expect_rejected_up_front({std::string(256, 'a'), 80}, "", true, Socks4Error::name_too_long);
  expect_rejected_up_front({std::string(65535, 'a'), 80}, "", true, Socks4Error::name_too_long);
}

BOOST_DATA_TEST_CASE(names_with_forbidden_bytes_are_refused,
                     bdata::make({std::string(), std::string("a b"), std::string("a\rb"),
                                  std::string("a\nb"), std::string("a\0b", 3),
                                  std::string("example.com\r\n"), std::string(" "),
                                  // A NUL must not let a literal prefix pass as an address.
                                  std::string("1.2.3.4\0evil", 12)}),
                     name) {
  expect_rejected_up_front({name, 80}, "", true, Socks4Error::invalid_name);
}

BOOST_AUTO_TEST_CASE(userid_limits) {
  Bytes out;
  const std::string userid(255, 'u');
  BOOST_TEST(!Socks4Connect::encode({"1.2.3.4", 80}, userid, false, out));
  BOOST_TEST(out.size() == 8u + 255 + 1);
  expect_rejected_up_front({"1.2.3.4", 80}, std::string(256, 'u'), false,
                           Socks4Error::userid_too_long);
  expect_rejected_up_front({"1.2.3.4", 80}, std::string("Fr\0ed", 5), false,
                           Socks4Error::invalid_userid);
  expect_rejected_up_front({"example.com", 80}, std::string("\0", 1), true,
                           Socks4Error::invalid_userid);
}

BOOST_AUTO_TEST_CASE(reply_code_zero_is_a_failure) {
  // socks4_reply(0) would be a false error_code; the codec must still report a failure.
  Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  const auto r = drive(codec, hex("00 00 00 50 42 66 07 63"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(static_cast<bool>(r.ec));
  BOOST_TEST(&r.ec.category() == &hc::proto::socks4_reply_category());
  BOOST_TEST(r.ec.message().find("SOCKS4 reply 0x00") != std::string::npos);
}

BOOST_DATA_TEST_CASE(reply_codes, bdata::make({0x5B, 0x5C, 0x5D, 0x01, 0x5E, 0xFF}), cd) {
  Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  const auto r = drive(
      codec, concat({hex("00"), Bytes{static_cast<std::uint8_t>(cd)}, hex("00 50 42 66 07 63")}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::socks4_reply(cd));
  BOOST_TEST(to_string(r.stage) == "request");
  BOOST_TEST(r.consumed == 8u);
  char code[8];
  std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(cd));
  BOOST_TEST(r.ec.message().find(code) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reply_code_messages) {
  using hc::proto::socks4_reply;
  BOOST_TEST(socks4_reply(0x5B).message().find("rejected or failed") != std::string::npos);
  BOOST_TEST(socks4_reply(0x5C).message().find("identd") != std::string::npos);
  BOOST_TEST(socks4_reply(0x5D).message().find("different user id") != std::string::npos);
}

BOOST_DATA_TEST_CASE(reply_version_must_be_zero, bdata::make({0x04, 0x01, 0x05, 0x5A, 0xFF}), vn) {
  const std::array<std::uint8_t, kSocks4ReplySize> reply{static_cast<std::uint8_t>(vn), 0x5A};
  BOOST_TEST(Socks4Connect::parse_reply(reply) == std::error_code(Socks4Error::bad_reply_version));

  Socks4Connect codec({"66.102.7.99", 80}, "", false);
  const auto r = drive(codec, reply);
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks4Error::bad_reply_version));
  // A failed codec stays failed.
  BOOST_TEST(codec.resume({}).ec == std::error_code(Socks4Error::bad_reply_version));
}

BOOST_AUTO_TEST_CASE(parse_reply_ignores_port_and_address) {
  const std::array<std::uint8_t, kSocks4ReplySize> reply{0x00, 0x5A, 0xFF, 0xFF,
                                                         0xFF, 0xFF, 0xFF, 0xFF};
  BOOST_TEST(!Socks4Connect::parse_reply(reply));
}

BOOST_AUTO_TEST_CASE(truncated_reply_starves) {
  // The reply is one exact read: nothing reaches the codec until all of it is there.
  hc::test::expect_every_prefix_starves(
      [] {
        return Socks4Connect({"example.com", 80}, "Fred", true);
      },
      kGranted, {kWhole},
      [](const hc::test::DriveResult& r, std::size_t) {
        BOOST_TEST(kind(r.end) == "recv_exactly");
        BOOST_TEST(r.consumed == 0u);
      });
}

BOOST_AUTO_TEST_CASE(payload_after_the_reply_is_not_consumed) {
  static_assert(kSocks4ReplySize == 8);
  Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  const Bytes payload = bytes("SSH-2.0-OpenSSH_9.2\r\n");
  hc::test::expect_payload_untouched([&]() -> Socks4Connect& { return codec; }, kGranted, payload,
                                     {1, 3, kGranted.size() + payload.size()});
}

BOOST_AUTO_TEST_SUITE_END()
