/// GssStream: the RFC 1961 protection layer over in-memory streams (messages split at any
/// byte, a tampered, truncated or unprotected message) and over a loopback TCP pair after a
/// real client/server negotiation, with the fake mechanism.
#include "transport/gss_stream.hpp"

#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "../support/fake_gss.hpp"
#include "../support/scripted_stream.hpp"
#include "chain/handshake.hpp"
#include "proto/gssapi_errors.hpp"

using namespace hc;
using hc::test::FakeGss;
using hc::test::ScriptedStream;
using proto::Protection;
using transport::GssStream;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes pattern(std::size_t size) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  }
  return out;
}

std::unique_ptr<FakeGss> fake(FakeGss::Role role, FakeGss::Options options = {}) {
  return std::make_unique<FakeGss>(role, options);
}

/// What a sender's GssStream writes for `data`, in writes of `write_size` bytes.
Bytes wrapped(const Bytes& data, Protection level, std::size_t write_size,
              FakeGss::Options options = {}) {
  auto sink = std::make_unique<ScriptedStream>(Bytes{}, 1);
  ScriptedStream& out = *sink;
  GssStream sender(std::move(sink), fake(FakeGss::Role::client, options), level);
  for (std::size_t at = 0; at < data.size(); at += write_size) {
    const std::size_t n = std::min(write_size, data.size() - at);
    auto [ec, written] = test::run_sync(sender.write_all(std::span(data).subspan(at, n)));
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(written == n);
  }
  return out.written();
}

struct ReadAll {
  Bytes data;
  std::error_code ec;  ///< what ended it
};

awaitable<ReadAll> read_all(transport::Stream& stream, std::size_t buffer_size) {
  ReadAll out;
  Bytes buffer(buffer_size);
  for (;;) {
    auto [ec, n] = co_await stream.read_some(buffer);
    out.data.insert(out.data.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
    if (ec) {
      out.ec = ec;
      co_return out;
    }
  }
}

ReadAll unwrap_all(Bytes wire, Protection level, std::size_t chunk, std::size_t buffer_size) {
  GssStream receiver(std::make_unique<ScriptedStream>(std::move(wire), chunk),
                     fake(FakeGss::Role::server), level);
  return test::run_sync(read_all(receiver, buffer_size));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gss_stream)

BOOST_AUTO_TEST_CASE(round_trip_at_each_level_with_any_split) {
  const Bytes data = pattern(300'000);
  for (const Protection level : {Protection::integrity, Protection::confidentiality}) {
    const Bytes wire = wrapped(data, level, 100'000);
    BOOST_TEST(wire.size() > data.size());  // headers and the mechanism's overhead
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{65'539}}) {
      const ReadAll got = unwrap_all(wire, level, chunk, chunk == 1 ? 4096 : 7);
      BOOST_TEST(got.ec == asio::error::eof);
      BOOST_TEST(got.data == data, "level " << static_cast<int>(level) << " chunk " << chunk);
    }
  }
}

BOOST_AUTO_TEST_CASE(messages_stay_within_the_mechanism_limit) {
  FakeGss::Options small;
  small.max_plaintext = 1000;
  const Bytes data = pattern(10'000);
  const Bytes wire = wrapped(data, Protection::confidentiality, 10'000, small);
  // 10 messages of 1000 bytes: header 4, fake overhead 4.
  BOOST_TEST(wire.size() == 10 * (1000 + 8));
  BOOST_TEST(unwrap_all(wire, Protection::confidentiality, 5000, 4096).data == data);
}

BOOST_AUTO_TEST_CASE(a_tampered_message_fails_and_the_stream_stays_failed) {
  Bytes wire = wrapped(pattern(5000), Protection::integrity, 1000);
  wire[1008 + 4 + 3 + 10] ^= 1;  // a data byte of the second message
  GssStream receiver(std::make_unique<ScriptedStream>(wire, 4096), fake(FakeGss::Role::server),
                     Protection::integrity);
  const ReadAll got = test::run_sync(read_all(receiver, 4096));
  BOOST_TEST(got.data.size() == 1000U);
  BOOST_TEST(got.ec == make_error_code(proto::GssStatus::bad_integrity));
  Bytes one(1);
  auto [ec, n] = test::run_sync(receiver.read_some(one));
  BOOST_TEST(ec == make_error_code(proto::GssStatus::bad_integrity));
  BOOST_TEST(n == 0U);
}

BOOST_AUTO_TEST_CASE(an_end_inside_a_message_is_an_error_between_messages_eof) {
  Bytes wire = wrapped(pattern(3000), Protection::integrity, 1000);
  BOOST_REQUIRE(!wire.empty());
  wire.pop_back();
  const ReadAll cut = unwrap_all(wire, Protection::integrity, 512, 4096);
  BOOST_TEST(cut.data.size() == 2000U);
  BOOST_TEST(cut.ec == make_error_code(proto::GssapiError::truncated_message));
  BOOST_TEST(unwrap_all({}, Protection::integrity, 512, 4096).ec == asio::error::eof);
}

BOOST_AUTO_TEST_CASE(confidentiality_refuses_integrity_only_messages) {
  FakeGss::Options no_seal;
  no_seal.can_encrypt = false;
  const Bytes wire = wrapped(pattern(100), Protection::confidentiality, 100, no_seal);
  const ReadAll got = unwrap_all(wire, Protection::confidentiality, 4096, 4096);
  BOOST_TEST(got.data.empty());
  BOOST_TEST(got.ec == make_error_code(proto::GssapiError::unprotected_message));
}

BOOST_AUTO_TEST_CASE(replayed_messages_fail) {
  const Bytes one = wrapped(pattern(10), Protection::integrity, 10);
  Bytes wire = one;
  wire.insert(wire.end(), one.begin(), one.end());
  const ReadAll got = unwrap_all(wire, Protection::integrity, 4096, 4096);
  BOOST_TEST(got.data == pattern(10));
  BOOST_TEST(got.ec == make_error_code(proto::GssStatus::duplicate_token));
}

BOOST_AUTO_TEST_SUITE_END()
