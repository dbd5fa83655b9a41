// SOCKS5 (RFC 1928): address fields, method negotiation, RFC 1929 sub-negotiation, the command
// reply, pipelining, and exact reads.
#include "proto/socks5.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "proto/socks5_address.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
namespace socks5 = hc::proto::socks5;
using hc::proto::Credentials;
using hc::proto::HostPort;
using hc::proto::Socks5Command;
using hc::proto::Socks5Connect;
using hc::proto::Socks5Error;
using hc::proto::Socks5Options;
using hc::proto::Step;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::test::drive;
using hc::test::hex;
using hc::test::kind;
using hc::test::to_hex;

namespace {

/// Runs `codec` and records every step as a line, so a test can assert the whole exchange:
/// "send 05 01 00 @auth", "recv 2 @auth", "done", "fail <message> @request", "starved".
std::vector<std::string> trace(hc::proto::Handshake& codec, std::span<const std::uint8_t> replies) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  Step step = codec.start();
  for (int guard = 0; guard < 100; ++guard) {
    const std::string at = " @" + std::string(to_string(step.stage));
    switch (step.kind) {
      case Step::Kind::send:
        lines.push_back("send " + to_hex(step.bytes) + at);
        step = codec.resume({});
        continue;
      case Step::Kind::recv_exactly:
      case Step::Kind::recv_some:
        lines.push_back(std::string(kind(step.kind)) + " " + std::to_string(step.size) + at);
        if (replies.size() - pos < step.size) {
          lines.push_back("starved");
          return lines;
        }
        {
          const std::size_t n = step.size;
          step = codec.resume(replies.subspan(pos, n));
          pos += n;
        }
        continue;
      case Step::Kind::done:
        lines.push_back("done");
        return lines;
      case Step::Kind::fail:
        lines.push_back("fail " + step.ec.message() + at);
        return lines;
    }
  }
  lines.push_back("loop");
  return lines;
}

std::string send(std::string_view hex_text, std::string_view stage) {
  return "send " + to_hex(hex(hex_text)) + " @" + std::string(stage);
}
std::string recv(std::size_t n, std::string_view stage) {
  return "recv_exactly " + std::to_string(n) + " @" + std::string(stage);
}
std::string fail(std::error_code ec, std::string_view stage) {
  return "fail " + ec.message() + " @" + std::string(stage);
}

std::string hex_code(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(v));
  return buf;
}

const Credentials kCreds{"user", "pass"};
const std::string kAuthRequest = "01 04 75 73 65 72 04 70 61 73 73";
// CONNECT example.com:443
const std::string kConnectRequest = "05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 01 bb";
// Success, BND 10.0.0.1:1080
const Bytes kSuccessReply = hex("05 00 00 01 0a 00 00 01 04 38");
const HostPort kTarget{"example.com", 443};

Socks5Options pipelined() {
  Socks5Options o;
  o.pipelined = true;
  return o;
}

// Every prefix of a server's whole transcript must leave the codec waiting, never done or failed.
void expect_every_prefix_starves(const std::optional<Credentials>& creds, Socks5Options options,
                                 const Bytes& transcript) {
  hc::test::expect_every_prefix_starves([&] { return Socks5Connect(kTarget, creds, options); },
                                        transcript);
}

// start() must fail with `expected` at `stage` before sending anything.
void expect_rejected_up_front(const HostPort& target, const std::optional<Credentials>& creds,
                              std::error_code expected, std::string_view stage) {
  for (bool pipeline : {false, true}) {
    Socks5Options options;
    options.pipelined = pipeline;
    Socks5Connect codec(target, creds, options);
    const auto r = drive(codec, concat({hex("05 02 01 00"), kSuccessReply}));
    BOOST_TEST(kind(r.end) == "fail");
    BOOST_TEST(r.ec == expected);
    BOOST_TEST(to_string(r.stage) == stage);
    BOOST_TEST(r.sent.empty());
    BOOST_TEST(r.consumed == 0u);
  }
}

const std::vector<std::string> kBadNames = {
    std::string(),
    std::string("a b"),
    std::string("a\rb"),
    std::string("a\nb"),
    std::string("a\0b", 3),
    std::string("\r\n"),
    std::string("example.com "),
    std::string("1.2.3.4\0evil", 12),  // a NUL must not let a literal prefix pass as an address
};

}  // namespace

BOOST_AUTO_TEST_SUITE(socks5_codec)

// --- socks5::encode_address / decode_address --------------------------------------------------

BOOST_AUTO_TEST_CASE(encode_ipv4_literal) {
  Bytes out;
  BOOST_TEST(!socks5::encode_address({"1.2.3.4", 80}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("01 01 02 03 04 00 50")));
}

BOOST_AUTO_TEST_CASE(encode_ipv6_literal) {
  Bytes out;
  BOOST_TEST(!socks5::encode_address({"::1", 443}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("04 00000000000000000000000000000001 01 bb")));
  out.clear();
  BOOST_TEST(!socks5::encode_address({"2001:db8::ff00:42:8329", 0xFFFF}, out));
  BOOST_TEST(to_hex(out) == to_hex(hex("04 20010db8000000000000ff0000428329 ff ff")));
}

BOOST_AUTO_TEST_CASE(encode_domain_appends) {
  Bytes out = hex("05 01 00");
  BOOST_TEST(!socks5::encode_address(kTarget, out));
  BOOST_TEST(to_hex(out) == to_hex(hex(kConnectRequest)));
}

BOOST_AUTO_TEST_CASE(encode_non_literals_as_domains) {
  // Not valid literals, so they go to the server as names; nothing is resolved or reinterpreted.
  for (const char* host : {"1.2.3", "256.1.1.1", "01.2.3.4", "[::1]", "fe80::1%eth0", "::g"}) {
    BOOST_TEST_CONTEXT("host " << host) {
      Bytes out;
      BOOST_TEST(!socks5::encode_address({host, 1}, out));
      BOOST_TEST_REQUIRE(out.size() >= 2u);
      BOOST_TEST(out[0] == socks5::kAtypDomain);
      BOOST_TEST(out[1] == std::string_view(host).size());
    }
  }
}

BOOST_AUTO_TEST_CASE(encode_domain_length_limits) {
  Bytes out;
  const std::string name(255, 'n');
  BOOST_TEST(!socks5::encode_address({name, 1}, out));
  BOOST_TEST(to_hex(out) == to_hex(concat({hex("03 ff"), bytes(name), hex("00 01")})));

  for (std::size_t len : {256, 300, 65535}) {
    Bytes untouched = hex("aa");
    BOOST_TEST(socks5::encode_address({std::string(len, 'n'), 1}, untouched) ==
               std::error_code(Socks5Error::name_too_long));
    BOOST_TEST(to_hex(untouched) == "aa");
  }
}

BOOST_DATA_TEST_CASE(encode_rejects_bad_names, bdata::make(kBadNames), name) {
  Bytes out;
  BOOST_TEST(socks5::encode_address({name, 1}, out) == std::error_code(Socks5Error::invalid_name));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(decode_ipv4) {
  const auto d = socks5::decode_address(hex("01 c0 a8 01 02 1f 90 ff ff"));
  BOOST_TEST(!d.ec);
  BOOST_TEST(d.consumed == 7u);
  BOOST_TEST(d.address.host == "192.168.1.2");
  BOOST_TEST(d.address.port == 8080);
}

BOOST_AUTO_TEST_CASE(decode_ipv6) {
  const auto d = socks5::decode_address(hex("04 20010db8000000000000000000000001 00 16 aa"));
  BOOST_TEST(!d.ec);
  BOOST_TEST(d.consumed == 19u);
  BOOST_TEST(d.address.host == "2001:db8::1");
  BOOST_TEST(d.address.port == 22);
}

BOOST_AUTO_TEST_CASE(decode_domain_as_is) {
  const auto d = socks5::decode_address(
      concat({hex("03 05"), bytes(std::string_view("a\xFF b\0", 5)), hex("00 50")}));
  BOOST_TEST(!d.ec);
  BOOST_TEST(d.consumed == 9u);
  BOOST_TEST(d.address.host == std::string("a\xFF b\0", 5));
  BOOST_TEST(d.address.port == 80);

  const std::string name(255, 'd');
  const auto big = socks5::decode_address(concat({hex("03 ff"), bytes(name), hex("01 bb 00")}));
  BOOST_TEST(!big.ec);
  BOOST_TEST(big.consumed == 2u + 255 + 2);
  BOOST_TEST(big.address.host == name);
  BOOST_TEST(big.address.port == 443);
}

BOOST_AUTO_TEST_CASE(decode_round_trips_encode) {
  for (const HostPort& hp :
       {HostPort{"10.1.2.3", 1}, HostPort{"2001:db8::1", 65535}, HostPort{"example.org", 0}}) {
    Bytes out;
    BOOST_TEST_REQUIRE(!socks5::encode_address(hp, out));
    const auto d = socks5::decode_address(out);
    BOOST_TEST(!d.ec);
    BOOST_TEST(d.consumed == out.size());
    BOOST_TEST(d.address.to_string() == hp.to_string());
  }
}

BOOST_AUTO_TEST_CASE(decode_reports_what_is_needed_at_every_prefix) {
  struct Case {
    Bytes full;
    std::vector<std::size_t> needed;  // by prefix length
  };
  const Case cases[] = {
      {hex("01 01 02 03 04 00 50"), {1, 7, 7, 7, 7, 7, 7}},
      {hex("03 03 61 62 63 00 50"), {1, 2, 7, 7, 7, 7, 7}},
      {hex("04 00000000000000000000000000000001 00 50"),
       {1, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_REQUIRE(c.needed.size() == c.full.size());
    for (std::size_t len = 0; len < c.full.size(); ++len) {
      BOOST_TEST_CONTEXT("atyp " << int(c.full[0]) << " prefix " << len) {
        const auto d = socks5::decode_address(std::span(c.full).first(len));
        BOOST_TEST(!d.ec);
        BOOST_TEST(d.consumed == 0u);
        BOOST_TEST(d.needed == c.needed[len]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(decode_empty_domain) {
  const auto d = socks5::decode_address(hex("03 00"));
  BOOST_TEST(d.ec == std::error_code(Socks5Error::empty_domain));
  BOOST_TEST(d.consumed == 0u);
  BOOST_TEST(socks5::decode_address(hex("03 00 00 50")).ec ==
             std::error_code(Socks5Error::empty_domain));
}

BOOST_DATA_TEST_CASE(decode_unknown_address_type, bdata::make({0x00, 0x02, 0x05, 0x80, 0xFF}),
                     atyp) {
  const Bytes in{static_cast<std::uint8_t>(atyp), 1, 2, 3, 4, 5, 6, 7, 8};
  BOOST_TEST(socks5::decode_address(in).ec == std::error_code(Socks5Error::bad_address_type));
  BOOST_TEST(socks5::decode_address(std::span(in).first(1)).ec ==
             std::error_code(Socks5Error::bad_address_type));
}

// --- Socks5Connect: exchanges ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_auth_sends_each_piece_separately) {
  Socks5Connect codec(kTarget, std::nullopt);
  const std::vector<std::string> expected = {
      send("05 01 00", "auth"), recv(2, "auth"),    send(kConnectRequest, "request"),
      recv(5, "request"),       recv(5, "request"), "done",
  };
  BOOST_TEST(trace(codec, concat({hex("05 00"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:1080");
}

BOOST_AUTO_TEST_CASE(user_password_sends_each_piece_separately) {
  Socks5Connect codec(kTarget, kCreds);
  const std::vector<std::string> expected = {
      send("05 02 00 02", "auth"),
      recv(2, "auth"),
      send(kAuthRequest, "auth"),
      recv(2, "auth"),
      send(kConnectRequest, "request"),
      recv(5, "request"),
      recv(5, "request"),
      "done",
  };
  BOOST_TEST(trace(codec, concat({hex("05 02 01 00"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(auth_failure_stops_before_the_command) {
  Socks5Connect codec(kTarget, kCreds);
  const std::vector<std::string> expected = {
      send("05 02 00 02", "auth"),
      recv(2, "auth"),
      send(kAuthRequest, "auth"),
      recv(2, "auth"),
      fail(Socks5Error::auth_failed, "auth"),
  };
  BOOST_TEST(trace(codec, concat({hex("05 02 01 01"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(credentials_unused_when_server_picks_no_auth) {
  Socks5Connect codec(kTarget, kCreds);
  const std::vector<std::string> expected = {
      send("05 02 00 02", "auth"), recv(2, "auth"),    send(kConnectRequest, "request"),
      recv(5, "request"),          recv(5, "request"), "done",
  };
  BOOST_TEST(trace(codec, concat({hex("05 00"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pipelined_no_auth_sends_everything_first) {
  Socks5Connect codec(kTarget, std::nullopt, pipelined());
  const std::vector<std::string> expected = {
      send("05 01 00" + kConnectRequest, "auth"),
      recv(2, "auth"),
      recv(5, "request"),
      recv(5, "request"),
      "done",
  };
  BOOST_TEST(trace(codec, concat({hex("05 00"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:1080");
}

BOOST_AUTO_TEST_CASE(pipelined_user_password_sends_everything_first) {
  Socks5Connect codec(kTarget, kCreds, pipelined());
  const std::vector<std::string> expected = {
      send("05 01 02" + kAuthRequest + kConnectRequest, "auth"),
      recv(2, "auth"),
      recv(2, "auth"),
      recv(5, "request"),
      recv(5, "request"),
      "done",
  };
  BOOST_TEST(trace(codec, concat({hex("05 02 01 00"), kSuccessReply})) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(udp_associate_with_unspecified_address) {
  Socks5Options options;
  options.command = Socks5Command::udp_associate;
  Socks5Connect codec({"0.0.0.0", 0}, std::nullopt, options);
  const std::vector<std::string> expected = {
      send("05 01 00", "auth"), recv(2, "auth"),    send("05 03 00 01 00000000 0000", "request"),
      recv(5, "request"),       recv(5, "request"), "done",
  };
  BOOST_TEST(trace(codec, hex("05 00  05 00 00 01 7f 00 00 01 14 e9")) == expected,
             boost::test_tools::per_element());
  BOOST_TEST(codec.bound().to_string() == "127.0.0.1:5353");
}

BOOST_AUTO_TEST_CASE(ipv6_and_ipv4_targets) {
  Socks5Connect v6({"2001:db8::1", 22}, std::nullopt, pipelined());
  auto r = drive(v6, concat({hex("05 00"), kSuccessReply}));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) ==
             to_hex(hex("05 01 00 05 01 00 04 20010db8000000000000000000000001 00 16")));

  Socks5Connect v4({"192.0.2.7", 25}, std::nullopt, pipelined());
  r = drive(v4, concat({hex("05 00"), kSuccessReply}));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) == to_hex(hex("05 01 00 05 01 00 01 c0 00 02 07 00 19")));
}

// --- Socks5Connect: validation before sending ---------------------------------------------------

BOOST_AUTO_TEST_CASE(target_name_length_limits) {
  const std::string name(255, 'x');
  Socks5Connect codec({name, 80}, std::nullopt, pipelined());
  const auto r = drive(codec, concat({hex("05 00"), kSuccessReply}));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) ==
             to_hex(concat({hex("05 01 00 05 01 00 03 ff"), bytes(name), hex("00 50")})));

  expect_rejected_up_front({std::string(256, 'x'), 80}, std::nullopt, Socks5Error::name_too_long,
                           "request");
  expect_rejected_up_front({std::string(65535, 'x'), 80}, kCreds, Socks5Error::name_too_long,
                           "request");
}

BOOST_DATA_TEST_CASE(target_names_with_forbidden_bytes, bdata::make(kBadNames), name) {
  expect_rejected_up_front({name, 80}, std::nullopt, Socks5Error::invalid_name, "request");
}

BOOST_AUTO_TEST_CASE(credential_lengths) {
  expect_rejected_up_front(kTarget, Credentials{"", "p"}, Socks5Error::empty_user, "auth");
  expect_rejected_up_front(kTarget, Credentials{std::string(256, 'u'), "p"},
                           Socks5Error::user_too_long, "auth");
  expect_rejected_up_front(kTarget, Credentials{"u", ""}, Socks5Error::empty_password, "auth");
  expect_rejected_up_front(kTarget, Credentials{"u", std::string(256, 'p')},
                           Socks5Error::password_too_long, "auth");

  const std::string u(255, 'u');
  const std::string p(255, 'p');
  Socks5Connect codec(kTarget, Credentials{u, p});
  const auto r = drive(codec, concat({hex("05 02 01 00"), kSuccessReply}));
  BOOST_TEST(kind(r.end) == "done");
}

// --- Socks5Connect: method reply ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_acceptable_method) {
  for (bool pipeline : {false, true}) {
    Socks5Options options;
    options.pipelined = pipeline;
    Socks5Connect codec(kTarget, kCreds, options);
    const auto r = drive(codec, concat({hex("05 ff"), kSuccessReply}));
    BOOST_TEST(kind(r.end) == "fail");
    BOOST_TEST(r.ec == std::error_code(Socks5Error::no_acceptable_method));
    BOOST_TEST(to_string(r.stage) == "auth");
    BOOST_TEST(r.consumed == 2u);
  }
}

BOOST_AUTO_TEST_CASE(method_not_offered) {
  struct Case {
    std::optional<Credentials> creds;
    bool pipeline;
    std::uint8_t method;
  };
  const Case cases[] = {
      {std::nullopt, false, 0x02},  // no credentials, so 02 was not offered
      {std::nullopt, false, 0x01},  // GSSAPI
      {kCreds, false, 0x01},       {kCreds, false, 0x80},
      {kCreds, true, 0x00},        // pipelined with credentials offers only 02
      {std::nullopt, true, 0x02},  // pipelined without credentials offers only 00
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("pipelined " << c.pipeline << " creds " << c.creds.has_value() << " method "
                                    << int(c.method)) {
      Socks5Options options;
      options.pipelined = c.pipeline;
      Socks5Connect codec(kTarget, c.creds, options);
      const auto r =
          drive(codec, concat({hex("05"), Bytes{c.method}, hex("01 00"), kSuccessReply}));
      BOOST_TEST(kind(r.end) == "fail");
      BOOST_TEST(r.ec == std::error_code(Socks5Error::method_not_offered));
      BOOST_TEST(to_string(r.stage) == "auth");
      BOOST_TEST(r.consumed == 2u);
    }
  }
}

BOOST_DATA_TEST_CASE(method_reply_wrong_version, bdata::make({0x00, 0x01, 0x04, 0x06, 0xFF}), ver) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, concat({Bytes{static_cast<std::uint8_t>(ver), 0x00}, kSuccessReply}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks5Error::bad_version));
  BOOST_TEST(to_string(r.stage) == "auth");
  BOOST_TEST(r.sent.size() == 3u);  // the greeting only
}

// --- Socks5Connect: RFC 1929 reply -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(auth_reply) {
  struct Case {
    Bytes reply;
    std::error_code expected;
  };
  const Case cases[] = {
      {hex("01 00"), {}},
      {hex("05 00"), Socks5Error::auth_bad_version},  // a SOCKS5 version byte is a common mistake
      {hex("00 00"), Socks5Error::auth_bad_version},
      {hex("01 01"), Socks5Error::auth_failed},
      {hex("01 ff"), Socks5Error::auth_failed},
  };
  for (bool pipeline : {false, true}) {
    for (const auto& c : cases) {
      BOOST_TEST_CONTEXT("pipelined " << pipeline << " reply " << c.reply) {
        Socks5Options options;
        options.pipelined = pipeline;
        Socks5Connect codec(kTarget, kCreds, options);
        const auto r = drive(codec, concat({hex("05 02"), c.reply, kSuccessReply}));
        if (c.expected) {
          BOOST_TEST(kind(r.end) == "fail");
          BOOST_TEST(r.ec == c.expected);
          BOOST_TEST(to_string(r.stage) == "auth");
          BOOST_TEST(r.consumed == 4u);
          if (!pipeline) {
            // The command is never sent after a failed authentication.
            BOOST_TEST(to_hex(r.sent) == to_hex(hex("05 02 00 02" + kAuthRequest)));
          }
        } else {
          BOOST_TEST(kind(r.end) == "done");
        }
      }
    }
  }
}

// --- Socks5Connect: command reply --------------------------------------------------------------

BOOST_DATA_TEST_CASE(reply_codes_map_to_rfc_meanings, bdata::xrange(1, 9), rep) {
  static const char* const meanings[] = {
      "succeeded",
      "general SOCKS server failure",
      "connection not allowed by ruleset",
      "network unreachable",
      "host unreachable",
      "connection refused",
      "TTL expired",
      "command not supported",
      "address type not supported",
  };
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, concat({hex("05 00 05"), Bytes{static_cast<std::uint8_t>(rep)},
                                      hex("00 01 00 00 00 00 00 00")}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::socks5_reply(rep));
  BOOST_TEST(to_string(r.stage) == "request");
  BOOST_TEST(r.ec.message().find(meanings[rep]) != std::string::npos, r.ec.message());
  BOOST_TEST(r.ec.message().find(hex_code(rep)) != std::string::npos, r.ec.message());
  // Only the 5-byte head is read: the REP is reported before the address is looked at.
  BOOST_TEST(r.consumed == 2u + 5);

  BOOST_TEST(hc::proto::socks5_reply(0).message().find("succeeded") != std::string::npos);
}

BOOST_DATA_TEST_CASE(unassigned_reply_codes, bdata::make({0x09, 0x0A, 0x7F, 0xFF}), rep) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, concat({hex("05 00 05"), Bytes{static_cast<std::uint8_t>(rep)},
                                      hex("00 01 00 00 00 00 00 00")}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::socks5_reply(rep));
  BOOST_TEST(r.ec.message().find("unassigned reply code " + hex_code(rep)) != std::string::npos,
             r.ec.message());
}

BOOST_AUTO_TEST_CASE(failed_reply_with_junk_address_reports_the_reply_code) {
  for (const char* head : {"05 05 00 ff ff", "05 02 00 03 00", "05 01 ff 00 00"}) {
    BOOST_TEST_CONTEXT("head " << head) {
      Socks5Connect codec(kTarget, std::nullopt);
      const auto r = drive(codec, concat({hex("05 00"), hex(head), hex("de ad be ef")}));
      BOOST_TEST(kind(r.end) == "fail");
      BOOST_TEST(&r.ec.category() == &hc::proto::socks5_reply_category());
      BOOST_TEST(r.ec.value() == hex(head)[1]);
      BOOST_TEST(r.consumed == 2u + 5);
    }
  }
}

BOOST_DATA_TEST_CASE(reply_wrong_version, bdata::make({0x00, 0x01, 0x04, 0xFF}), ver) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, concat({hex("05 00"), Bytes{static_cast<std::uint8_t>(ver)},
                                      hex("00 00 01 0a 00 00 01 04 38")}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks5Error::bad_version));
  BOOST_TEST(to_string(r.stage) == "request");
}

BOOST_DATA_TEST_CASE(nonzero_reserved_byte_is_tolerated, bdata::make({0x01, 0x80, 0xFF}), rsv) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, concat({hex("05 00 05 00"), Bytes{static_cast<std::uint8_t>(rsv)},
                                      hex("01 0a 00 00 01 04 38")}));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:1080");
}

BOOST_AUTO_TEST_CASE(bound_address_types) {
  const std::string name255(255, 'b');
  struct Case {
    Bytes reply;
    HostPort bound;
    std::vector<std::size_t> reads;  // recv_exactly sizes of the command reply
  };
  const Case cases[] = {
      {hex("05 00 00 01 c0 a8 00 01 00 50"), {"192.168.0.1", 80}, {5, 5}},
      {hex("05 00 00 04 20010db8000000000000000000000002 01 bb"), {"2001:db8::2", 443}, {5, 17}},
      {concat({hex("05 00 00 03 07"), bytes("bnd.lan"), hex("13 88")}), {"bnd.lan", 5000}, {5, 9}},
      {concat({hex("05 00 00 03 01"), bytes("b"), hex("00 00")}), {"b", 0}, {5, 3}},
      {concat({hex("05 00 00 03 ff"), bytes(name255), hex("ff ff")}), {name255, 65535}, {5, 257}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("bound " << c.bound.to_string().substr(0, 40)) {
      Socks5Connect codec(kTarget, std::nullopt, pipelined());
      const auto lines = trace(codec, concat({hex("05 00"), c.reply, bytes("payload")}));
      std::vector<std::string> expected = {send("05 01 00" + kConnectRequest, "auth"),
                                           recv(2, "auth")};
      for (std::size_t n : c.reads) {
        expected.push_back(recv(n, "request"));
      }
      expected.push_back("done");
      BOOST_TEST(lines == expected, boost::test_tools::per_element());
      BOOST_TEST(codec.bound().host == c.bound.host);
      BOOST_TEST(codec.bound().port == c.bound.port);
    }
  }
}

BOOST_AUTO_TEST_CASE(bound_empty_domain) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r = drive(codec, hex("05 00  05 00 00 03 00  00 50"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks5Error::empty_domain));
  BOOST_TEST(to_string(r.stage) == "request");
  BOOST_TEST(r.consumed == 2u + 5);
}

BOOST_DATA_TEST_CASE(bound_unknown_address_type, bdata::make({0x00, 0x02, 0x05, 0xFF}), atyp) {
  Socks5Connect codec(kTarget, std::nullopt);
  const auto r =
      drive(codec, concat({hex("05 00  05 00 00"), Bytes{static_cast<std::uint8_t>(atyp)},
                           hex("00 00 00 00 00 00")}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks5Error::bad_address_type));
  BOOST_TEST(to_string(r.stage) == "request");
  BOOST_TEST(r.consumed == 2u + 5);
}

// --- Socks5Connect: exact reads ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_prefix_of_the_replies_starves) {
  const Bytes domain_reply = concat({hex("05 00 00 03 07"), bytes("bnd.lan"), hex("13 88")});
  const Bytes v6_reply = hex("05 00 00 04 20010db8000000000000000000000002 01 bb");
  for (bool pipeline : {false, true}) {
    Socks5Options options;
    options.pipelined = pipeline;
    expect_every_prefix_starves(std::nullopt, options, concat({hex("05 00"), kSuccessReply}));
    expect_every_prefix_starves(kCreds, options, concat({hex("05 02 01 00"), domain_reply}));
    expect_every_prefix_starves(std::nullopt, options, concat({hex("05 00"), v6_reply}));
  }
  // Non-pipelined with credentials, server skips authentication.
  expect_every_prefix_starves(kCreds, {}, concat({hex("05 00"), kSuccessReply}));
}

BOOST_AUTO_TEST_CASE(payload_after_the_reply_is_not_consumed) {
  const Bytes payload = bytes("SSH-2.0-OpenSSH_9.2\r\n");
  const Bytes domain_reply = concat({hex("05 00 00 03 07"), bytes("bnd.lan"), hex("13 88")});
  for (bool pipeline : {false, true}) {
    for (const Bytes& reply : {kSuccessReply, domain_reply}) {
      Socks5Options options;
      options.pipelined = pipeline;
      Socks5Connect codec(kTarget, kCreds, options);
      const Bytes transcript = concat({hex("05 02 01 00"), reply});
      hc::test::expect_payload_untouched([&]() -> Socks5Connect& { return codec; }, transcript,
                                         payload, {1, 4, 1000});
    }
  }
}

BOOST_AUTO_TEST_CASE(replies_delivered_in_pieces) {
  // A runner may hand over an exact read in several resumes; the codec asks for the rest.
  const Bytes replies = concat({hex("05 02 01 00"), kSuccessReply});
  Socks5Connect codec(kTarget, kCreds, pipelined());
  BOOST_TEST(kind(codec.start().kind) == "send");
  const auto r = hc::test::deliver_byte_by_byte(codec, replies);
  BOOST_TEST(kind(r.last.kind) == "done");
  BOOST_TEST(r.consumed == replies.size());
  BOOST_TEST(r.all_exact);
  const std::vector<std::size_t> expected = {2, 1, 2, 1, 5, 4, 3, 2, 1, 5, 4, 3, 2, 1};
  BOOST_TEST(r.asked == expected, boost::test_tools::per_element());
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:1080");
}

BOOST_AUTO_TEST_CASE(more_bytes_than_asked_for_is_refused) {
  Socks5Connect codec(kTarget, std::nullopt, pipelined());
  codec.start();
  codec.resume({});
  const auto step = codec.resume(hex("05 00 05"));
  BOOST_TEST(kind(step.kind) == "fail");
  BOOST_TEST(step.ec == std::make_error_code(std::errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(finished_codec_stays_finished) {
  Socks5Connect ok(kTarget, std::nullopt);
  BOOST_TEST(kind(drive(ok, concat({hex("05 00"), kSuccessReply})).end) == "done");
  BOOST_TEST(kind(ok.resume({}).kind) == "done");

  Socks5Connect bad(kTarget, std::nullopt);
  BOOST_TEST(kind(drive(bad, hex("05 ff")).end) == "fail");
  const auto again = bad.resume({});
  BOOST_TEST(kind(again.kind) == "fail");
  BOOST_TEST(again.ec == std::error_code(Socks5Error::no_acceptable_method));
  BOOST_TEST(to_string(again.stage) == "auth");
}

BOOST_AUTO_TEST_CASE(gssapi_greeting_offers_method_1_alone) {
  hc::proto::Socks5Options options;
  options.part = hc::proto::Socks5Part::gssapi_greeting;
  Socks5Connect codec(kTarget, std::nullopt, options);
  const std::vector<std::string> expected = {send("05 01 01", "auth"), recv(2, "auth"), "done"};
  BOOST_TEST(trace(codec, hex("05 01")) == expected, boost::test_tools::per_element());
  Socks5Connect other(kTarget, std::nullopt, options);
  const auto chose_none = drive(other, hex("05 00"));
  BOOST_TEST(chose_none.ec == std::error_code(Socks5Error::method_not_offered));
  Socks5Connect refused(kTarget, std::nullopt, options);
  BOOST_TEST(drive(refused, hex("05 ff")).ec == std::error_code(Socks5Error::no_acceptable_method));
}

BOOST_AUTO_TEST_CASE(request_part_starts_at_the_request) {
  hc::proto::Socks5Options options;
  options.part = hc::proto::Socks5Part::request;
  Socks5Connect codec(kTarget, std::nullopt, options);
  const std::vector<std::string> expected = {send(kConnectRequest, "request"), recv(5, "request"),
                                             recv(5, "request"), "done"};
  BOOST_TEST(trace(codec, kSuccessReply) == expected, boost::test_tools::per_element());
  options.pipelined = true;
  Socks5Connect pipelined(kTarget, std::nullopt, options);
  BOOST_TEST(trace(pipelined, kSuccessReply) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
