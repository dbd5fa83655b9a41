// SOCKS BIND, client side (SOCKS5 CMD 0x02, SOCKS4/4a CD 2): the request, the pause after the
// first reply with the listening address, the second reply with the peer, and exact reads.
#include "proto/socks_bind.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/bind_driver.hpp"
#include "support/codec_driver.hpp"

using hc::proto::BindPhase;
using hc::proto::Credentials;
using hc::proto::HostPort;
using hc::proto::Socks4Bind;
using hc::proto::Socks4Error;
using hc::proto::Socks5Bind;
using hc::proto::Socks5Command;
using hc::proto::Socks5Connect;
using hc::proto::Socks5Error;
using hc::proto::Socks5Options;
using hc::proto::Stage;
using hc::proto::Step;
using hc::test::BothReplies;
using hc::test::Bytes;
using hc::test::chunk_sizes_up_to;
using hc::test::concat;
using hc::test::drive;
using hc::test::hex;
using hc::test::kind;
using hc::test::kWhole;
using hc::test::to_hex;

namespace {

/// Runs a BIND codec and records every step as a line, the pause included: "send 05 01 00 @auth",
/// "recv 2 @auth", "bound 10.0.0.1:50000", "peer 192.0.2.7:54321", "fail <message> @accept".
template <class Bind>
std::vector<std::string> trace(Bind& codec, std::span<const std::uint8_t> replies) {
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
        lines.push_back("recv " + std::to_string(step.size) + at);
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
        if (codec.phase() == BindPhase::waiting_for_peer) {
          lines.push_back("bound " + codec.bound().to_string() +
                          (codec.bound_unspecified() ? " unspecified" : ""));
          step = codec.resume({});
          continue;
        }
        lines.push_back("peer " + codec.peer().to_string());
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
  return "recv " + std::to_string(n) + " @" + std::string(stage);
}
std::string fail(std::error_code ec, std::string_view stage) {
  return "fail " + ec.message() + " @" + std::string(stage);
}

using Lines = std::vector<std::string>;

const HostPort kAnyPeer{"0.0.0.0", 0};
const Credentials kCreds{"user", "pass"};
const std::string kAuthRequest = "01 04 75 73 65 72 04 70 61 73 73";
const std::string kBindRequest = "05 02 00 01 00 00 00 00 00 00";  // BIND 0.0.0.0:0
// Listening on 10.0.0.1:50000; then 192.0.2.7:54321 connected.
const Bytes kFirst5 = hex("05 00 00 01 0a 00 00 01 c3 50");
const Bytes kSecond5 = hex("05 00 00 01 c0 00 02 07 d4 31");
// The second reply with an IPv6 peer (2001:db8::7) and with a named one (peer.example).
const Bytes kSecond5v6 = hex("05 00 00 04 20010db8000000000000000000000007 d4 31");
const Bytes kSecond5name = hex("05 00 00 03 0c 70 65 65 72 2e 65 78 61 6d 70 6c 65 d4 31");

Bytes socks5_transcript(const Bytes& second) {
  return concat({hex("05 00"), kFirst5, second});
}

// Expecting 192.0.2.7:21, user id "Fred": VN CD=2 DSTPORT DSTIP USERID NUL.
const std::string kBindRequest4 = "04 02 00 15 c0 00 02 07 46 72 65 64 00";
const Bytes kFirst4 = hex("00 5a c3 50 0a 00 00 01");
const Bytes kSecond4 = hex("00 5a d4 31 c0 00 02 07");
const HostPort kPeer4{"192.0.2.7", 21};

}  // namespace

BOOST_AUTO_TEST_SUITE(socks_bind)

BOOST_AUTO_TEST_CASE(accept_stage_has_a_name) {
  BOOST_TEST(to_string(Stage::accept) == "accept");
}

// --- SOCKS5 ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(socks5_two_replies_with_a_pause_between) {
  Socks5Bind codec(kAnyPeer, std::nullopt);
  BOOST_TEST(trace(codec, socks5_transcript(kSecond5)) ==
                 (Lines{send("05 01 00", "auth"), recv(2, "auth"), send(kBindRequest, "request"),
                        recv(5, "request"), recv(5, "request"), "bound 10.0.0.1:50000",
                        recv(5, "accept"), recv(5, "accept"), "peer 192.0.2.7:54321"}),
             boost::test_tools::per_element());
  BOOST_TEST((codec.phase() == BindPhase::done));
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:50000");
  BOOST_TEST(!codec.bound_unspecified());
  BOOST_TEST(codec.leftover().empty());
}

BOOST_AUTO_TEST_CASE(socks5_pipelined_with_credentials) {
  Socks5Bind codec({"192.0.2.7", 21}, kCreds, true);
  const auto replies = concat({hex("05 02 01 00"), kFirst5, kSecond5});
  BOOST_TEST(trace(codec, replies) ==
                 (Lines{send("05 01 02" + kAuthRequest + "05 02 00 01 c0 00 02 07 00 15", "auth"),
                        recv(2, "auth"), recv(2, "auth"), recv(5, "request"), recv(5, "request"),
                        "bound 10.0.0.1:50000", recv(5, "accept"), recv(5, "accept"),
                        "peer 192.0.2.7:54321"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(socks5_connect_with_bind_command_stops_at_the_first_reply) {
  Socks5Connect codec(kAnyPeer, std::nullopt, Socks5Options{Socks5Command::bind, false});
  const auto r = drive(codec, socks5_transcript(kSecond5));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(to_hex(r.sent) == to_hex(hex("05 01 00" + kBindRequest)));
  BOOST_TEST(r.consumed == 2u + kFirst5.size());
  BOOST_TEST(codec.bound().to_string() == "10.0.0.1:50000");
}

BOOST_AUTO_TEST_CASE(socks5_second_reply_peer_address_kinds) {
  for (const auto& [second, peer] : {std::pair{kSecond5v6, "[2001:db8::7]:54321"},
                                     std::pair{kSecond5name, "peer.example:54321"}}) {
    BOOST_TEST_CONTEXT(peer) {
      BothReplies<Socks5Bind> codec(kAnyPeer, std::nullopt);
      const auto r = drive(codec, socks5_transcript(second));
      BOOST_TEST(kind(r.end) == "done");
      BOOST_TEST(codec.codec.peer().to_string() == peer);
      BOOST_TEST(codec.pauses == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(socks5_unspecified_bound_address_is_flagged) {
  for (const auto& [first, flagged] :
       {std::pair{hex("05 00 00 01 00 00 00 00 c3 50"), true},
        std::pair{hex("05 00 00 04 00000000000000000000000000000000 c3 50"), true},
        std::pair{hex("05 00 00 04 00000000000000000000000000000001 c3 50"), false},
        std::pair{kFirst5, false}}) {
    BOOST_TEST_CONTEXT(to_hex(first)) {
      BothReplies<Socks5Bind> codec(kAnyPeer, std::nullopt);
      const auto r = drive(codec, concat({hex("05 00"), first, kSecond5}));
      BOOST_TEST(kind(r.end) == "done");
      BOOST_TEST(codec.codec.bound_unspecified() == flagged);
      BOOST_TEST(codec.codec.bound().port == 50000);
    }
  }
}

BOOST_AUTO_TEST_CASE(socks5_every_prefix_starves) {
  for (const bool pipelined : {false, true}) {
    for (const auto* second : {&kSecond5, &kSecond5v6, &kSecond5name}) {
      BOOST_TEST_CONTEXT("pipelined " << pipelined << ", second " << to_hex(*second)) {
        hc::test::expect_every_prefix_starves(
            [&] { return BothReplies<Socks5Bind>(kAnyPeer, kCreds, pipelined); },
            concat({hex("05 02 01 00"), kFirst5, *second}), {1, 2, 3, kWhole});
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(socks5_byte_by_byte) {
  BothReplies<Socks5Bind> codec(kAnyPeer, std::nullopt);
  const auto r = hc::test::deliver_byte_by_byte(codec, socks5_transcript(kSecond5name));
  BOOST_TEST(kind(r.last.kind) == "done");
  BOOST_TEST(r.all_exact);
  BOOST_TEST(codec.codec.peer().to_string() == "peer.example:54321");
}

BOOST_AUTO_TEST_CASE(socks5_payload_after_the_second_reply_stays_in_the_stream) {
  const auto transcript = socks5_transcript(kSecond5);
  hc::test::expect_payload_untouched(
      [&] { return BothReplies<Socks5Bind>(kAnyPeer, std::nullopt); }, transcript,
      hex("05 00 00 01 de ad 48 54 54 50"), chunk_sizes_up_to(transcript.size() + 4));
}

BOOST_AUTO_TEST_CASE(socks5_refused_first_reply_fails_at_request) {
  Socks5Bind codec(kAnyPeer, std::nullopt);
  const auto lines = trace(codec, concat({hex("05 00 05 07 00 01 00 00 00 00 00 00"), kSecond5}));
  BOOST_TEST(lines.back() == fail(hc::proto::socks5_reply(0x07), "request"));
  BOOST_TEST(lines.back().find("command not supported (SOCKS5 reply 0x07)") != std::string::npos);
  BOOST_TEST((codec.phase() == BindPhase::failed));
}

BOOST_AUTO_TEST_CASE(socks5_bad_second_reply_fails_at_accept) {
  struct Case {
    Bytes second;
    std::error_code expected;
  };
  const Case cases[] = {
      {hex("05 05 00 01 00 00 00 00 00 00"), hc::proto::socks5_reply(0x05)},
      {hex("05 02 00 01 00 00 00 00 00 00"), hc::proto::socks5_reply(0x02)},
      {hex("05 2a 00 ff 00 00 00 00 00 00"), hc::proto::socks5_reply(0x2a)},  // REP before ATYP
      {hex("04 00 00 01 c0 00 02 07 d4 31"), Socks5Error::bad_version},
      {hex("05 00 00 07 c0 00 02 07 d4 31"), Socks5Error::bad_address_type},
      {hex("05 00 00 03 00 d4 31"), Socks5Error::empty_domain},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(to_hex(c.second)) {
      Socks5Bind codec(kAnyPeer, std::nullopt);
      const auto lines = trace(codec, socks5_transcript(c.second));
      BOOST_TEST(lines.back() == fail(c.expected, "accept"));
      BOOST_TEST((codec.phase() == BindPhase::failed));
      BOOST_TEST(codec.bound().to_string() == "10.0.0.1:50000");  // still there for the message
      // A failed codec stays failed.
      BOOST_TEST(kind(codec.resume({}).kind) == "fail");
    }
  }
  // A huge domain length is read in full, then fails only if the address is malformed.
  Socks5Bind codec(kAnyPeer, std::nullopt);
  const auto lines = trace(codec, socks5_transcript(hex("05 00 00 03 ff 61")));
  BOOST_TEST(lines.back() == "starved");
  BOOST_TEST(lines[lines.size() - 2] == recv(1 + 255 + 2 - 1, "accept"));
}

BOOST_AUTO_TEST_CASE(socks5_bytes_handed_in_while_waiting_are_a_runner_bug) {
  Socks5Bind codec(kAnyPeer, std::nullopt);
  const auto r = drive(codec, concat({hex("05 00"), kFirst5}));
  BOOST_TEST_REQUIRE(kind(r.end) == "done");
  BOOST_TEST((codec.phase() == BindPhase::waiting_for_peer));
  const Step step = codec.resume(kSecond5);
  BOOST_TEST(kind(step.kind) == "fail");
  BOOST_TEST(to_string(step.stage) == "accept");
}

BOOST_AUTO_TEST_CASE(socks5_restart_begins_afresh) {
  Socks5Bind codec(kAnyPeer, std::nullopt);
  BOOST_TEST(kind(drive(codec, hex("05 00 05 01 00 01 00 00 00 00 00 00")).end) == "fail");
  BOOST_TEST(trace(codec, socks5_transcript(kSecond5)).back() == "peer 192.0.2.7:54321");
}

// --- SOCKS4/4a ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(socks4_two_replies_with_a_pause_between) {
  Socks4Bind codec(kPeer4, "Fred", false);
  BOOST_TEST(trace(codec, concat({kFirst4, kSecond4})) ==
                 (Lines{send(kBindRequest4, "request"), recv(8, "request"), "bound 10.0.0.1:50000",
                        recv(8, "accept"), "peer 192.0.2.7:54321"}),
             boost::test_tools::per_element());
  BOOST_TEST((codec.phase() == BindPhase::done));
  BOOST_TEST(codec.leftover().empty());
}

BOOST_AUTO_TEST_CASE(socks4a_names_the_expected_peer) {
  Socks4Bind codec({"peer.example", 21}, "", true);
  const auto lines = trace(codec, concat({hex("00 5a c3 50 00 00 00 00"), kSecond4}));
  BOOST_TEST(lines.front() ==
             send("04 02 00 15 00 00 00 01 00 70 65 65 72 2e 65 78 61 6d 70 6c 65 00", "request"));
  BOOST_TEST(lines[2] == "bound 0.0.0.0:50000 unspecified");
  BOOST_TEST(lines.back() == "peer 192.0.2.7:54321");
}

BOOST_AUTO_TEST_CASE(socks4_request_refused_up_front) {
  Socks4Bind codec({"2001:db8::7", 21}, "", true);
  const auto r = drive(codec, concat({kFirst4, kSecond4}));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == std::error_code(Socks4Error::ipv6_target));
  BOOST_TEST(r.sent.empty());
  BOOST_TEST(r.consumed == 0u);
}

BOOST_AUTO_TEST_CASE(socks4_every_prefix_starves_and_byte_by_byte) {
  const auto transcript = concat({kFirst4, kSecond4});
  hc::test::expect_every_prefix_starves(
      [&] { return BothReplies<Socks4Bind>(kPeer4, "Fred", false); }, transcript,
      {1, 2, 3, 5, kWhole});
  BothReplies<Socks4Bind> codec(kPeer4, "Fred", false);
  const auto r = hc::test::deliver_byte_by_byte(codec, transcript);
  BOOST_TEST(kind(r.last.kind) == "done");
  BOOST_TEST(r.all_exact);
  BOOST_TEST(codec.pauses == 1);
  BOOST_TEST(codec.codec.peer().to_string() == "192.0.2.7:54321");
}

BOOST_AUTO_TEST_CASE(socks4_payload_after_the_second_reply_stays_in_the_stream) {
  const auto transcript = concat({kFirst4, kSecond4});
  hc::test::expect_payload_untouched([&] { return BothReplies<Socks4Bind>(kPeer4, "Fred", false); },
                                     transcript, hex("00 5a 48 54 54 50"),
                                     chunk_sizes_up_to(transcript.size() + 2));
}

BOOST_AUTO_TEST_CASE(socks4_refusals_name_their_reply) {
  const std::error_code rejected = hc::proto::socks4_reply(0x5B);
  struct Case {
    Bytes replies;
    std::error_code expected;
    std::string_view stage;
  };
  const Case cases[] = {
      {concat({hex("00 5b 00 00 00 00 00 00"), kSecond4}), rejected, "request"},
      {concat({hex("00 5d 00 00 00 00 00 00"), kSecond4}), hc::proto::socks4_reply(0x5D),
       "request"},
      {concat({kFirst4, hex("00 5b 00 00 00 00 00 00")}), rejected, "accept"},
      {concat({kFirst4, hex("00 00 00 00 00 00 00 00")}), hc::proto::socks4_reply(0x00), "accept"},
      {concat({kFirst4, hex("04 5a d4 31 c0 00 02 07")}), Socks4Error::bad_reply_version, "accept"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(to_hex(c.replies)) {
      Socks4Bind codec(kPeer4, "Fred", false);
      BOOST_TEST(trace(codec, c.replies).back() == fail(c.expected, c.stage));
      BOOST_TEST((codec.phase() == BindPhase::failed));
      BOOST_TEST(kind(codec.resume({}).kind) == "fail");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
