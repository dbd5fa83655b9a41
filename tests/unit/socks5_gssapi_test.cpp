#include "proto/socks5_gssapi.hpp"

#include <boost/test/unit_test.hpp>

#include "../support/codec_driver.hpp"
#include "../support/fake_gss.hpp"
#include "proto/gssapi_errors.hpp"

using namespace hc;
using namespace hc::test;
using proto::Protection;
using proto::Step;
namespace gssapi = proto::gssapi;

namespace hc::proto {
inline std::ostream& operator<<(std::ostream& os, Protection level) {
  return os << protection_name(level);
}
}  // namespace hc::proto

namespace {

/// A codec with its own fake mechanism, so every drive() starts from a fresh context.
template <class Negotiation>
struct WithFake final : proto::Handshake {
  template <class... Args>
  WithFake(FakeGss::Role role, FakeGss::Options options, Args... args)
      : gss(role, options), codec(gss, args...) {}
  Step start() override { return codec.start(); }
  Step resume(std::span<const std::uint8_t> received) override { return codec.resume(received); }
  FakeGss gss;
  Negotiation codec;
};
using Client = WithFake<gssapi::ClientNegotiation>;
using Server = WithFake<gssapi::ServerNegotiation>;

Bytes message(gssapi::MessageType type, std::span<const std::uint8_t> token) {
  return *gssapi::encode_message(type, token);
}

/// What a server (with its own fake context) sends in answer to the client's token and level.
Bytes server_transcript(Protection selected, bool mutual = true) {
  FakeGss server(FakeGss::Role::server);
  Bytes out;
  if (mutual) {
    out = message(gssapi::MessageType::context, bytes("ACCEPT"));
  }
  const std::uint8_t level = static_cast<std::uint8_t>(selected);
  const Bytes wrapped = *server.wrap(std::span(&level, 1), false);
  const Bytes reply = message(gssapi::MessageType::protection, wrapped);
  out.insert(out.end(), reply.begin(), reply.end());
  return out;
}

struct PairResult {
  Step::Kind client = Step::Kind::fail;
  Step::Kind server = Step::Kind::fail;
  std::error_code client_ec;
};

/// Runs a client and a server against each other, each read answered from the other's writes.
PairResult run_pair(proto::Handshake& client, proto::Handshake& server) {
  Bytes to_server, to_client;
  Step c = client.start(), s = server.start();
  auto advance = [](proto::Handshake& codec, Step& step, Bytes& inbox, Bytes& outbox) {
    if (step.kind == Step::Kind::send) {
      outbox.insert(outbox.end(), step.bytes.begin(), step.bytes.end());
      step = codec.resume({});
      return true;
    }
    if (step.kind == Step::Kind::recv_exactly && inbox.size() >= step.size) {
      const Bytes piece(inbox.begin(), inbox.begin() + static_cast<std::ptrdiff_t>(step.size));
      inbox.erase(inbox.begin(), inbox.begin() + static_cast<std::ptrdiff_t>(step.size));
      step = codec.resume(piece);
      return true;
    }
    return false;
  };
  for (int guard = 0; guard < 100; ++guard) {
    const bool moved = advance(client, c, to_client, to_server);
    if (!advance(server, s, to_server, to_client) && !moved) {
      break;
    }
  }
  return {c.kind, s.kind, c.ec};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks5_gssapi)

BOOST_AUTO_TEST_CASE(messages_are_version_type_length_token) {
  BOOST_TEST(message(gssapi::MessageType::context, bytes("AB")) == hex("01 01 00 02 41 42"));
  BOOST_TEST(gssapi::abort_message() == hex("01 FF"));
  const Bytes huge(gssapi::kMaxToken + 1, 0);
  BOOST_TEST(gssapi::encode_message(gssapi::MessageType::encapsulated, huge).error() ==
             make_error_code(proto::GssapiError::token_too_large));
}

BOOST_AUTO_TEST_CASE(client_sends_its_token_then_its_level_and_reads_exactly_the_replies) {
  const Bytes transcript = server_transcript(Protection::integrity);
  auto make = [] {
    return Client(FakeGss::Role::client, {}, Protection::confidentiality, Protection::none);
  };
  expect_every_prefix_starves(make, transcript, chunk_sizes_up_to(3));
  Client client = make();
  const DriveResult r = drive(client, transcript);
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(client.codec.selected() == Protection::integrity);
  // The token, then the wrapped level 2 (confidentiality asked), without confidentiality.
  const Bytes token = message(gssapi::MessageType::context, bytes("INIT"));
  BOOST_TEST(Bytes(r.sent.begin(), r.sent.begin() + 8) == token);
  BOOST_TEST(r.sent.size() == token.size() + 4 + 5);
}

BOOST_AUTO_TEST_CASE(without_mutual_authentication_the_level_follows_the_token_unanswered) {
  Client client(FakeGss::Role::client, {.mutual = false}, Protection::integrity, Protection::none);
  const DriveResult r = drive(client, server_transcript(Protection::integrity, false));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(client.codec.selected() == Protection::integrity);
}

BOOST_AUTO_TEST_CASE(client_and_server_agree_on_the_lower_level) {
  struct Case {
    Protection asked, maximum, selected;
  };
  for (const Case c :
       {Case{Protection::confidentiality, Protection::integrity, Protection::integrity},
        Case{Protection::integrity, Protection::confidentiality, Protection::integrity},
        Case{Protection::confidentiality, Protection::none, Protection::none},
        Case{Protection::confidentiality, Protection::confidentiality,
             Protection::confidentiality}}) {
    BOOST_TEST_CONTEXT("asked " << proto::protection_name(c.asked) << ", maximum "
                                << proto::protection_name(c.maximum)) {
      Client client(FakeGss::Role::client, {}, c.asked, Protection::none);
      Server server(FakeGss::Role::server, {}, c.maximum);
      const PairResult r = run_pair(client, server);
      BOOST_TEST(kind(r.client) == "done");
      BOOST_TEST(kind(r.server) == "done");
      BOOST_TEST(client.codec.selected() == c.selected);
      BOOST_TEST(server.codec.selected() == c.selected);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_weaker_level_than_required_is_a_named_error) {
  Client client(FakeGss::Role::client, {}, Protection::confidentiality,
                Protection::confidentiality);
  Server server(FakeGss::Role::server, {}, Protection::integrity);
  const PairResult r = run_pair(client, server);
  BOOST_TEST(kind(r.client) == "fail");
  BOOST_TEST(r.client_ec == make_error_code(proto::GssapiError::protection_too_weak));
}

BOOST_AUTO_TEST_CASE(malformed_server_messages_are_named) {
  struct Case {
    const char* what;
    Bytes reply;
    proto::GssapiError error;
  };
  const Case cases[] = {
      {"abort", hex("01 FF"), proto::GssapiError::refused},
      {"version 5", hex("05 01 00 06"), proto::GssapiError::bad_version},
      {"a level where a token belongs", hex("01 02 00 01 00"),
       proto::GssapiError::unexpected_message_type},
      {"an empty token", hex("01 01 00 00"), proto::GssapiError::empty_token},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      Client client(FakeGss::Role::client, {}, Protection::integrity, Protection::none);
      const DriveResult r = drive(client, c.reply);
      BOOST_TEST(kind(r.end) == "fail");
      BOOST_TEST(r.ec == make_error_code(c.error));
      BOOST_TEST((r.stage == proto::Stage::auth));
    }
  }
}

BOOST_AUTO_TEST_CASE(levels_the_rfc_does_not_define_are_refused) {
  FakeGss server(FakeGss::Role::server);
  const Bytes accept = message(gssapi::MessageType::context, bytes("ACCEPT"));
  const std::uint8_t selective = 3;
  const Bytes level3 =
      message(gssapi::MessageType::protection, *server.wrap(std::span(&selective, 1), false));
  Client client(FakeGss::Role::client, {}, Protection::integrity, Protection::none);
  const DriveResult r = drive(client, concat({accept, level3}));
  BOOST_TEST(r.ec == make_error_code(proto::GssapiError::unknown_protection));
}

BOOST_AUTO_TEST_CASE(a_bad_token_from_the_server_is_the_mechanism_error) {
  const Bytes reply = message(gssapi::MessageType::context, bytes("FORGED"));
  Client client(FakeGss::Role::client, {}, Protection::integrity, Protection::none);
  BOOST_TEST(drive(client, reply).ec == make_error_code(proto::GssStatus::defective_token));
}

BOOST_AUTO_TEST_CASE(the_server_aborts_before_failing) {
  const Bytes hello = message(gssapi::MessageType::context, bytes("HELLO"));
  Server server(FakeGss::Role::server, {}, Protection::confidentiality);
  const DriveResult r = drive(server, hello);
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(proto::GssStatus::defective_token));
  BOOST_TEST(r.sent == gssapi::abort_message());
}

BOOST_AUTO_TEST_CASE(encapsulated_data_round_trips_in_any_split) {
  for (const Protection level : {Protection::integrity, Protection::confidentiality}) {
    BOOST_TEST_CONTEXT(proto::protection_name(level)) {
      FakeGss sender(FakeGss::Role::client, {.max_plaintext = 1000});
      FakeGss receiver(FakeGss::Role::server);
      Bytes data(2500);
      for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i * 7);
      }
      const Bytes wire = *gssapi::encapsulate(sender, data, level);
      BOOST_TEST(wire.size() == data.size() + 3 * (4 + 4));  // three messages of <= 1000
      gssapi::Decapsulator reader(receiver, level);
      Bytes out;
      for (const std::uint8_t b : wire) {  // one byte at a time
        reader.feed(std::span(&b, 1));
        auto next = reader.next();
        BOOST_REQUIRE(next);
        if (*next) {
          out.insert(out.end(), (*next)->begin(), (*next)->end());
        }
      }
      BOOST_TEST(out == data);
      BOOST_TEST(reader.pending() == 0U);
    }
  }
}

BOOST_AUTO_TEST_CASE(tampered_replayed_and_unprotected_messages_are_named) {
  const Bytes data = bytes("payload");
  auto first_error = [](const Bytes& wire, Protection level) {
    FakeGss receiver(FakeGss::Role::server);
    gssapi::Decapsulator reader(receiver, level);
    reader.feed(wire);
    for (int i = 0; i < 4; ++i) {
      auto next = reader.next();
      if (!next) {
        return next.error();
      }
    }
    return std::error_code{};
  };
  FakeGss sender(FakeGss::Role::client);
  Bytes one = *gssapi::encapsulate(sender, data, Protection::integrity);
  Bytes tampered = one;
  tampered[8] ^= 1;
  BOOST_TEST(first_error(tampered, Protection::integrity) ==
             make_error_code(proto::GssStatus::bad_integrity));
  BOOST_TEST(first_error(concat({one, one}), Protection::integrity) ==
             make_error_code(proto::GssStatus::duplicate_token));
  BOOST_TEST(first_error(one, Protection::confidentiality) ==
             make_error_code(proto::GssapiError::unprotected_message));
  BOOST_TEST(first_error(concat({one, gssapi::abort_message()}), Protection::integrity) ==
             make_error_code(proto::GssapiError::refused));
  BOOST_TEST(first_error(hex("01 02 00 01 00"), Protection::integrity) ==
             make_error_code(proto::GssapiError::unexpected_message_type));
}

BOOST_AUTO_TEST_SUITE_END()
