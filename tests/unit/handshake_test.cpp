// run_handshake over an in-memory stream: real codecs, replies split into 1-byte reads, EOF at
// every offset, a read or write failing at every step, and payload glued to the reply left in
// the stream (or in leftover()).
#include "chain/handshake.hpp"

#include <boost/test/unit_test.hpp>

#include "chain/chain_error.hpp"
#include "chain/open_chain.hpp"
#include "proto/http_connect.hpp"
#include "proto/socks4.hpp"
#include "proto/socks5.hpp"
#include "support/codec_driver.hpp"
#include "support/scripted_stream.hpp"

using hc::test::Bytes;
using hc::test::hex;

namespace {

struct Outcome {
  std::error_code ec;
  hc::proto::Stage stage;
};

hc::awaitable<Outcome> handshake(hc::transport::Stream& stream, hc::proto::Handshake& codec) {
  hc::proto::Stage stage = hc::proto::Stage::connect;
  auto ec = co_await hc::chain::run_handshake(stream, codec, stage);
  co_return Outcome{ec, stage};
}

const Bytes kSocks5Reply = hex("05 00 05 00 00 01 7f 00 00 01 04 38");  // method, then CONNECT

}  // namespace

BOOST_AUTO_TEST_SUITE(handshake_runner)

BOOST_AUTO_TEST_CASE(socks5_reply_one_byte_per_read_leaves_payload_unread) {
  const Bytes payload = hc::test::bytes("SSH-2.0-OpenSSH_9.2\r\n");
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{4096}}) {
    hc::test::ScriptedStream stream(hc::test::concat({kSocks5Reply, payload}), chunk);
    hc::proto::Socks5Connect codec({"example.org", 22}, std::nullopt);
    auto outcome = hc::test::run_sync(handshake(stream, codec));
    BOOST_TEST(!outcome.ec);
    BOOST_TEST(stream.unread() == payload.size());
    BOOST_TEST(codec.bound().port == 1080);
  }
}

BOOST_AUTO_TEST_CASE(socks5_eof_at_every_offset_is_a_named_error) {
  for (std::size_t cut = 0; cut < kSocks5Reply.size(); ++cut) {
    hc::test::ScriptedStream stream(Bytes(kSocks5Reply.begin(), kSocks5Reply.begin() + cut), 1);
    hc::proto::Socks5Connect codec({"example.org", 22}, std::nullopt);
    auto outcome = hc::test::run_sync(handshake(stream, codec));
    BOOST_TEST(outcome.ec == hc::chain::ChainErrc::closed_during_handshake);
  }
}

BOOST_AUTO_TEST_CASE(socks5_refusal_names_the_reply) {
  hc::test::ScriptedStream stream(hex("05 00 05 02 00 01 00 00 00 00 00 00"), 1);
  hc::proto::Socks5Connect codec({"example.org", 22}, std::nullopt);
  auto outcome = hc::test::run_sync(handshake(stream, codec));
  BOOST_TEST(outcome.ec.message() == "connection not allowed by ruleset (SOCKS5 reply 0x02)");
  BOOST_TEST((outcome.stage == hc::proto::Stage::request));
}

BOOST_AUTO_TEST_CASE(socks4_reply_split_in_single_bytes) {
  hc::test::ScriptedStream stream(hex("00 5a 00 00 00 00 00 00 ab"), 1);
  hc::proto::Socks4Connect codec({"66.102.7.99", 80}, "Fred", false);
  auto outcome = hc::test::run_sync(handshake(stream, codec));
  BOOST_TEST(!outcome.ec);
  BOOST_TEST(stream.written() == hex("04 01 00 50 42 66 07 63 46 72 65 64 00"));
  BOOST_TEST(stream.unread() == 1u);
}

BOOST_AUTO_TEST_CASE(http_payload_glued_to_reply_is_kept) {
  const Bytes reply = hc::test::bytes("HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-x\r\n");
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    hc::test::ScriptedStream stream(reply, chunk);
    hc::proto::HttpConnect codec({"example.org", 22}, std::nullopt);
    auto outcome = hc::test::run_sync(handshake(stream, codec));
    BOOST_TEST(!outcome.ec);
    Bytes kept(codec.leftover().begin(), codec.leftover().end());
    const std::size_t rest = stream.unread();
    BOOST_TEST(kept.size() + rest == 11u);
  }
}

namespace {

using Op = hc::test::ScriptedStream::Op;
using hc::proto::Stage;

// Every I/O step of a SOCKS5 handshake with RFC 1929 username auth, in order, with its stage.
struct IoStep {
  Op op;
  std::size_t index;  // among the calls of its kind
  Stage stage;
};

// Method reply (user/password chosen), RFC 1929 success, CONNECT success bound to 127.0.0.1:1080.
const Bytes kSocks5AuthReplies = hex("05 02 01 00 05 00 00 01 7f 00 00 01 04 38");

// Greeting, method reply, RFC 1929 request and reply, command request, reply head and tail.
const IoStep kSequentialSteps[] = {
    {Op::write, 0, Stage::auth},   {Op::read, 0, Stage::auth},     {Op::write, 1, Stage::auth},
    {Op::read, 1, Stage::auth},    {Op::write, 2, Stage::request}, {Op::read, 2, Stage::request},
    {Op::read, 3, Stage::request},
};
// One write carries greeting, RFC 1929 request and command; then the same four replies.
const IoStep kPipelinedSteps[] = {
    {Op::write, 0, Stage::auth},   {Op::read, 0, Stage::auth},    {Op::read, 1, Stage::auth},
    {Op::read, 2, Stage::request}, {Op::read, 3, Stage::request},
};

hc::proto::Socks5Connect auth_codec(bool pipelined) {
  return hc::proto::Socks5Connect({"example.org", 22}, hc::proto::Credentials{"fred", "s3cret"},
                                  {.pipelined = pipelined});
}

// What run_handshake reports for a failed call: a reset while reading a reply is the peer
// closing mid-handshake; everything else comes through as it was.
std::error_code expected_error(Op op, std::error_code ec) {
  if (op == Op::read && ec == asio::error::connection_reset) {
    return hc::chain::ChainErrc::closed_during_handshake;
  }
  return ec;
}

}  // namespace

BOOST_AUTO_TEST_CASE(socks5_auth_steps_are_all_exercised) {
  // The step tables above cover the whole handshake: without a fault it succeeds with exactly
  // those calls (replies served whole, so one read per codec step).
  for (const bool pipelined : {false, true}) {
    hc::test::ScriptedStream stream(kSocks5AuthReplies, 4096);
    auto codec = auth_codec(pipelined);
    auto outcome = hc::test::run_sync(handshake(stream, codec));
    BOOST_TEST(!outcome.ec);
    BOOST_TEST(stream.write_calls() == (pipelined ? 1u : 3u));
    BOOST_TEST(stream.read_calls() == 4u);
    BOOST_TEST(stream.unread() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(socks5_auth_io_failure_at_every_step_names_stage_and_error) {
  const std::error_code errors[] = {asio::error::connection_reset, asio::error::broken_pipe,
                                    asio::error::timed_out};
  for (const bool pipelined : {false, true}) {
    const std::span<const IoStep> steps = pipelined ? std::span<const IoStep>(kPipelinedSteps)
                                                    : std::span<const IoStep>(kSequentialSteps);
    std::size_t reads_so_far = 0;
    std::size_t writes_so_far = 0;
    for (const IoStep& step : steps) {
      (step.op == Op::read ? reads_so_far : writes_so_far) += 1;
      for (const std::error_code& ec : errors) {
        BOOST_TEST_CONTEXT("pipelined " << pipelined << ", "
                                        << (step.op == Op::read ? "read " : "write ") << step.index
                                        << " fails: " << ec.message()) {
          hc::test::ScriptedStream stream(kSocks5AuthReplies, 4096,
                                          hc::test::ScriptedStream::Fault{step.op, step.index, ec});
          auto codec = auth_codec(pipelined);
          auto outcome = hc::test::run_sync(handshake(stream, codec));
          BOOST_TEST(stream.faulted());
          BOOST_TEST(outcome.ec == expected_error(step.op, ec));
          BOOST_TEST((outcome.stage == step.stage));
          // Nothing after the failed call: no write after a failed read, no retry.
          BOOST_TEST(stream.read_calls() == reads_so_far);
          BOOST_TEST(stream.write_calls() == writes_so_far);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(make_handshake_follows_the_scheme) {
  hc::proto::HopSpec hop;
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks4a://fred@127.0.0.1:1080", hop));
  auto codec = hc::chain::make_handshake(hop, {"example.org", 80});
  hc::test::ScriptedStream stream(hex("00 5a 00 00 00 00 00 00"), 8);
  auto outcome = hc::test::run_sync(handshake(stream, *codec));
  BOOST_TEST(!outcome.ec);
  BOOST_TEST(stream.written() ==
             hc::test::concat({hex("04 01 00 50 00 00 00 01"), hc::test::bytes("fred"), hex("00"),
                               hc::test::bytes("example.org"), hex("00")}));
}

BOOST_AUTO_TEST_SUITE_END()
