// The server-side SOCKS4/4a/5 codec: what it answers, what it refuses (and with which reply),
// exact reads (every prefix starves, any chunking gives the same result, pipelined payload is
// never consumed), bounded fields, and the RFC 1929 sub-negotiation.
#include "proto/socks_server.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

using hc::proto::Credentials;
using hc::proto::HostPort;
using hc::proto::SocksRequest;
using hc::proto::SocksServerError;
using hc::proto::SocksServerHandshake;
using hc::proto::SocksServerOptions;
using hc::proto::SocksVersion;
using hc::proto::Stage;
using hc::proto::Step;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::test::drive;
using hc::test::DriveResult;
using hc::test::hex;

namespace {

/// Records what the codec asked the password checker, and accepts alice:secret1 only.
struct Checker {
  std::vector<Credentials> calls;
  SocksServerOptions options() {
    SocksServerOptions o;
    o.check_password = [this](std::string_view user, std::string_view password) {
      calls.push_back({std::string(user), std::string(password)});
      return user == "alice" && password == "secret1";
    };
    return o;
  }
};

const Bytes kRefused5 = hex("05 01 00 01 00 00 00 00 00 00");
const Bytes kCommandNotSupported = hex("05 07 00 01 00 00 00 00 00 00");
const Bytes kAddressTypeNotSupported = hex("05 08 00 01 00 00 00 00 00 00");
const Bytes kRejected4 = hex("00 5b 00 00 00 00 00 00");

/// "01 05 alice 07 secret1" for RFC 1929.
Bytes auth_request(std::string_view user, std::string_view password) {
  Bytes out{0x01, static_cast<std::uint8_t>(user.size())};
  out.insert(out.end(), user.begin(), user.end());
  out.push_back(static_cast<std::uint8_t>(password.size()));
  out.insert(out.end(), password.begin(), password.end());
  return out;
}

/// A SOCKS5 CONNECT request for a domain name.
Bytes request_name(std::string_view name, std::uint16_t port) {
  Bytes out{0x05, 0x01, 0x00, 0x03, static_cast<std::uint8_t>(name.size())};
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port & 0xFF));
  return out;
}

/// A SOCKS4a request: VN CD PORT 0.0.0.1 USERID NUL NAME NUL.
Bytes socks4a_request(std::string_view userid, std::string_view name, std::uint16_t port) {
  Bytes out{0x04,
            0x01,
            static_cast<std::uint8_t>(port >> 8),
            static_cast<std::uint8_t>(port & 0xFF),
            0,
            0,
            0,
            1};
  out.insert(out.end(), userid.begin(), userid.end());
  out.push_back(0);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  return out;
}

/// A complete conversation that must succeed: client bytes, the server's answers, the request.
struct Scenario {
  std::string name;
  bool with_users = false;
  Bytes client;
  Bytes answers;
  SocksVersion version;
  HostPort target;
  std::string user;
};

std::vector<Scenario> good_scenarios() {
  return {
      {"socks5 ipv4",
       false,
       hex("05 01 00  05 01 00 01 7f 00 00 01 1f 90"),
       hex("05 00"),
       SocksVersion::socks5,
       {"127.0.0.1", 8080},
       ""},
      {"socks5 several methods offered",
       false,
       hex("05 03 02 01 00  05 01 00 01 0a 00 00 01 00 50"),
       hex("05 00"),
       SocksVersion::socks5,
       {"10.0.0.1", 80},
       ""},
      {"socks5 domain",
       false,
       concat({hex("05 01 00"), request_name("example.org", 443)}),
       hex("05 00"),
       SocksVersion::socks5,
       {"example.org", 443},
       ""},
      {"socks5 ipv6",
       false,
       hex("05 01 00  05 01 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 16"),
       hex("05 00"),
       SocksVersion::socks5,
       {"2001:db8::1", 22},
       ""},
      {"socks5 rsv ignored",
       false,
       hex("05 01 00  05 01 ff 01 7f 00 00 01 00 50"),
       hex("05 00"),
       SocksVersion::socks5,
       {"127.0.0.1", 80},
       ""},
      {"socks5 rfc1929",
       true,
       concat(
           {hex("05 02 00 02"), auth_request("alice", "secret1"), request_name("h.example", 22)}),
       hex("05 02  01 00"),
       SocksVersion::socks5,
       {"h.example", 22},
       "alice"},
      {"socks4",
       false,
       concat({hex("04 01 00 50 7f 00 00 01"), bytes("bob"), hex("00")}),
       {},
       SocksVersion::socks4,
       {"127.0.0.1", 80},
       "bob"},
      {"socks4 empty userid",
       false,
       hex("04 01 1f 90 c0 a8 01 02 00"),
       {},
       SocksVersion::socks4,
       {"192.168.1.2", 8080},
       ""},
      {"socks4 dstip 0.0.0.0 is not 4a",
       false,
       hex("04 01 00 50 00 00 00 00 00"),
       {},
       SocksVersion::socks4,
       {"0.0.0.0", 80},
       ""},
      {"socks4a",
       false,
       socks4a_request("carol", "example.org", 80),
       {},
       SocksVersion::socks4a,
       {"example.org", 80},
       "carol"},
      {"socks4a any x in 0.0.0.x",
       false,
       concat({hex("04 01 00 50 00 00 00 ff 00"), bytes("a.b"), hex("00")}),
       {},
       SocksVersion::socks4a,
       {"a.b", 80},
       ""},
  };
}

struct Outcome {
  DriveResult drive;
  std::optional<SocksRequest> request;
  std::size_t checks = 0;
};

Outcome run(const Scenario& s, std::span<const std::uint8_t> client, std::size_t chunk) {
  Checker checker;
  SocksServerHandshake codec(s.with_users ? checker.options() : SocksServerOptions{});
  Outcome o;
  o.drive = drive(codec, client, chunk);
  if (o.drive.end == Step::Kind::done) {
    o.request = codec.request();
  }
  o.checks = checker.calls.size();
  return o;
}

/// Drives a codec over `client` and returns the result (no users unless `options` says so).
DriveResult serve(std::span<const std::uint8_t> client, SocksServerOptions options = {}) {
  SocksServerHandshake codec(std::move(options));
  return drive(codec, client);
}

bool is_prefix(const Bytes& prefix, const Bytes& whole) {
  return prefix.size() <= whole.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks_server)

BOOST_AUTO_TEST_CASE(good_requests) {
  for (const auto& s : good_scenarios()) {
    BOOST_TEST_CONTEXT(s.name) {
      const auto o = run(s, s.client, SIZE_MAX);
      BOOST_TEST((o.drive.end == Step::Kind::done));
      BOOST_TEST(o.drive.sent == s.answers);
      BOOST_TEST(o.drive.consumed == s.client.size());
      BOOST_TEST(o.drive.leftover.empty());
      BOOST_REQUIRE(o.request);
      BOOST_TEST((o.request->version == s.version));
      BOOST_TEST(o.request->target.host == s.target.host);
      BOOST_TEST(o.request->target.port == s.target.port);
      BOOST_TEST(o.request->user == s.user);
      BOOST_TEST(o.checks == (s.with_users ? 1u : 0u));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_prefix_starves_without_answering_ahead) {
  for (const auto& s : good_scenarios()) {
    for (std::size_t n = 0; n < s.client.size(); ++n) {
      BOOST_TEST_CONTEXT(s.name << ", first " << n << " bytes") {
        const auto o = run(s, std::span<const std::uint8_t>(s.client).first(n), SIZE_MAX);
        BOOST_TEST(o.drive.starved());
        BOOST_TEST(is_prefix(o.drive.sent, s.answers));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(any_chunking_gives_the_same_result) {
  for (const auto& s : good_scenarios()) {
    for (std::size_t chunk = 1; chunk <= s.client.size(); ++chunk) {
      BOOST_TEST_CONTEXT(s.name << ", chunks of " << chunk) {
        const auto o = run(s, s.client, chunk);
        BOOST_TEST((o.drive.end == Step::Kind::done));
        BOOST_TEST(o.drive.sent == s.answers);
        BOOST_REQUIRE(o.request);
        BOOST_TEST(o.request->target.host == s.target.host);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(pipelined_payload_is_never_consumed) {
  // A client may send its payload (a TLS ClientHello, an HTTP request) right behind the request,
  // SOCKS5 greeting, auth and request included; those bytes belong to the tunnel.
  const Bytes payload = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  for (const auto& s : good_scenarios()) {
    BOOST_TEST_CONTEXT(s.name) {
      const Bytes client = concat({s.client, payload});
      const auto o = run(s, client, SIZE_MAX);
      BOOST_TEST((o.drive.end == Step::Kind::done));
      BOOST_TEST(o.drive.consumed == s.client.size());
      BOOST_TEST(o.drive.leftover.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(socks5_method_choice) {
  // Without users only "no authentication"; a client offering only 02 (or nothing) gets 0xFF.
  auto r = serve(hex("05 01 02"));
  BOOST_TEST((r.end == Step::Kind::fail));
  BOOST_TEST(r.sent == hex("05 ff"));
  BOOST_TEST((r.ec == SocksServerError::no_acceptable_method));
  BOOST_TEST((r.stage == Stage::auth));
  r = serve(hex("05 00"));
  BOOST_TEST(r.sent == hex("05 ff"));
  BOOST_TEST((r.ec == SocksServerError::no_acceptable_method));
  // With users, "no authentication" is not enough, even if it is all the client knows.
  Checker checker;
  r = serve(hex("05 01 00  05 01 00 01 7f 00 00 01 00 50"), checker.options());
  BOOST_TEST(r.sent == hex("05 ff"));
  BOOST_TEST((r.ec == SocksServerError::no_acceptable_method));
  BOOST_TEST(r.consumed == 3u);
  BOOST_TEST(checker.calls.empty());
  // ... and with users the codec never picks 00 even when 02 is offered too.
  r = serve(concat({hex("05 02 00 02"), auth_request("alice", "secret1"),
                    hex("05 01 00 01 7f 00 00 01 00 50")}),
            checker.options());
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_TEST(r.sent == hex("05 02 01 00"));
}

BOOST_AUTO_TEST_CASE(gssapi_method_choice) {
  SocksServerOptions gss;
  gss.offer_gssapi = true;
  // Offered: chosen, and the handshake stops right after the method reply.
  auto r = serve(hex("05 02 00 01  01 01 00 04"), gss);
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_TEST(r.sent == hex("05 01"));
  BOOST_TEST(r.consumed == 4u);  // the RFC 1961 message is left for its own codec
  // GSS-API only: no-auth clients and SOCKS4 are refused.
  r = serve(hex("05 01 00"), gss);
  BOOST_TEST(r.sent == hex("05 ff"));
  BOOST_TEST((r.ec == SocksServerError::no_acceptable_method));
  r = serve(hex("04 01 00 50 7f 00 00 01 00"), gss);
  BOOST_TEST((r.ec == SocksServerError::socks4_needs_auth));
  // With users too: GSS-API first when offered, else RFC 1929.
  Checker checker;
  SocksServerOptions both = checker.options();
  both.offer_gssapi = true;
  r = serve(hex("05 02 02 01"), both);
  BOOST_TEST(r.sent == hex("05 01"));
  r = serve(concat({hex("05 01 02"), auth_request("alice", "secret1"),
                    hex("05 01 00 01 7f 00 00 01 00 50")}),
            both);
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_TEST(r.sent == hex("05 02 01 00"));
}

BOOST_AUTO_TEST_CASE(request_only_after_gssapi) {
  SocksServerOptions options;
  options.request_only = true;
  options.user = "alice@HOPCHAIN.TEST";
  SocksServerHandshake codec(options);
  const auto r = drive(codec, hex("05 01 00 01 7f 00 00 01 00 50"));
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_TEST(r.sent.empty());
  BOOST_TEST(codec.request().target.to_string() == "127.0.0.1:80");
  BOOST_TEST(codec.request().user == "alice@HOPCHAIN.TEST");
  BOOST_TEST(!codec.gssapi());
  // UDP ASSOCIATE is not allowed there: no RFC 1961 datagram encapsulation.
  SocksServerHandshake udp(options);
  const auto refused = drive(udp, hex("05 03 00 01 00 00 00 00 00 00"));
  BOOST_TEST((refused.ec == SocksServerError::command_not_supported));
}

BOOST_AUTO_TEST_CASE(rfc1929_refusals) {
  const Bytes greeting = hex("05 01 02");
  const Bytes request = hex("05 01 00 01 7f 00 00 01 00 50");
  struct Case {
    const char* name;
    Bytes auth;
    SocksServerError why;
    std::size_t checks;
  };
  const std::vector<Case> cases = {
      {"wrong password", auth_request("alice", "wrong"), SocksServerError::auth_failed, 1},
      {"unknown user", auth_request("mallory", "secret1"), SocksServerError::auth_failed, 1},
      {"password prefix", auth_request("alice", "secret"), SocksServerError::auth_failed, 1},
      {"ULEN 0", hex("01 00 07"), SocksServerError::empty_user, 0},
      {"PLEN 0", concat({hex("01 05"), bytes("alice"), hex("00")}),
       SocksServerError::empty_password, 0},
      {"sub-negotiation VER 5", concat({hex("05 05"), bytes("alice"), hex("07"), bytes("secret1")}),
       SocksServerError::auth_bad_version, 0},
      {"sub-negotiation VER 0", concat({hex("00 05"), bytes("alice"), hex("07"), bytes("secret1")}),
       SocksServerError::auth_bad_version, 0},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Checker checker;
      const auto r = serve(concat({greeting, c.auth, request}), checker.options());
      BOOST_TEST((r.end == Step::Kind::fail));
      BOOST_TEST((r.ec == c.why));
      BOOST_TEST((r.stage == Stage::auth));
      // The method choice, then RFC 1929 failure status; the request is never read or answered.
      BOOST_TEST(r.sent == hex("05 02 01 01"));
      BOOST_TEST(r.consumed <= greeting.size() + c.auth.size());
      BOOST_TEST(checker.calls.size() == c.checks);
    }
  }
}

BOOST_AUTO_TEST_CASE(rfc1929_checker_sees_exact_fields) {
  // ULEN and PLEN of 255, every byte value except none: the checker gets them verbatim.
  std::string user(255, 'u');
  std::string password;
  for (int i = 0; i < 255; ++i) {
    password.push_back(static_cast<char>(i + 1));
  }
  std::vector<Credentials> seen;
  SocksServerOptions options;
  options.check_password = [&seen](std::string_view u, std::string_view p) {
    seen.push_back({std::string(u), std::string(p)});
    return true;
  };
  const auto r = serve(
      concat({hex("05 01 02"), auth_request(user, password), hex("05 01 00 01 7f 00 00 01 00 50")}),
      options);
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].user == user);
  BOOST_TEST((seen[0].password == password));
}

BOOST_AUTO_TEST_CASE(socks5_commands_other_than_connect) {
  // BIND and UDP ASSOCIATE are served only where the options allow them, unknown commands
  // never: REP 0x07.
  for (std::uint8_t cmd : {0x00, 0x02, 0x03, 0x04, 0xff}) {
    BOOST_TEST_CONTEXT("CMD " << int(cmd)) {
      Bytes client = hex("05 01 00  05 01 00 01 7f 00 00 01 00 50");
      client[4] = cmd;
      const auto r = serve(client);
      BOOST_TEST((r.end == Step::Kind::fail));
      BOOST_TEST((r.ec == SocksServerError::command_not_supported));
      BOOST_TEST((r.stage == Stage::request));
      BOOST_TEST(r.sent == concat({hex("05 00"), kCommandNotSupported}));
    }
  }
}

BOOST_AUTO_TEST_CASE(socks5_bad_address_fields) {
  for (std::uint8_t atyp : {0x00, 0x02, 0x05, 0xff}) {
    BOOST_TEST_CONTEXT("ATYP " << int(atyp)) {
      const auto r = serve(Bytes{5, 1, 0, 5, 1, 0, atyp, 1, 2, 3, 4, 5, 6, 7, 8});
      BOOST_TEST((r.ec == SocksServerError::address_type_not_supported));
      BOOST_TEST(r.sent == concat({hex("05 00"), kAddressTypeNotSupported}));
    }
  }
  // Domain length 0, and names no resolver or hop should see.
  const std::vector<Bytes> bad = {
      hex("05 01 00 03 00 00 50"), request_name("a b", 80),
      request_name("a\r\nb", 80),  request_name(std::string_view("a\0b", 3), 80),
      request_name("a\x7f", 80),   request_name("tab\there", 80),
  };
  for (const auto& req : bad) {
    BOOST_TEST_CONTEXT(hc::test::to_hex(req)) {
      const auto r = serve(concat({hex("05 01 00"), req}));
      BOOST_TEST((r.ec == SocksServerError::invalid_name));
      BOOST_TEST(r.sent == concat({hex("05 00"), kRefused5}));
    }
  }
  // A 255-byte name is the most the field holds, and it is fine.
  const std::string longest(255, 'n');
  const auto r = serve(concat({hex("05 01 00"), request_name(longest, 80)}));
  BOOST_TEST((r.end == Step::Kind::done));
}

BOOST_AUTO_TEST_CASE(socks5_request_version_must_be_5) {
  const auto r = serve(hex("05 01 00  04 01 00 01 7f 00 00 01 00 50"));
  BOOST_TEST((r.ec == SocksServerError::bad_request_version));
  BOOST_TEST(r.sent == hex("05 00"));  // no reply to something that is not a SOCKS5 request
}

BOOST_AUTO_TEST_CASE(not_socks_at_all) {
  for (const auto& client : {bytes("GET / HTTP/1.1\r\n"), hex("16 03 01 02 00"), hex("00 00")}) {
    BOOST_TEST_CONTEXT(hc::test::to_hex(client)) {
      const auto r = serve(client);
      BOOST_TEST((r.ec == SocksServerError::bad_version));
      BOOST_TEST(r.sent.empty());
      BOOST_TEST(r.consumed == 2u);
    }
  }
}

BOOST_AUTO_TEST_CASE(socks4_field_bounds) {
  const Bytes head = hex("04 01 00 50 7f 00 00 01");
  // USERID: 255 bytes is the limit; the 256th byte is refused without reading further.
  auto r = serve(concat({head, Bytes(255, 'u'), hex("00")}));
  BOOST_TEST((r.end == Step::Kind::done));
  r = serve(concat({head, Bytes(300, 'u'), hex("00")}));
  BOOST_TEST((r.ec == SocksServerError::userid_too_long));
  BOOST_TEST(r.sent == kRejected4);
  BOOST_TEST(r.consumed == head.size() + 256);
  // An endless USERID (CVE-2002-2368 shape) stops at the same point.
  r = serve(concat({head, Bytes(100000, 'A')}));
  BOOST_TEST((r.ec == SocksServerError::userid_too_long));
  BOOST_TEST(r.consumed == head.size() + 256);

  // SOCKS4a names: 255 bytes fine, 256 refused, empty or with a space refused.
  r = serve(socks4a_request("", std::string(255, 'n'), 80));
  BOOST_TEST((r.end == Step::Kind::done));
  r = serve(socks4a_request("", std::string(256, 'n'), 80));
  BOOST_TEST((r.ec == SocksServerError::name_too_long));
  BOOST_TEST(r.sent == kRejected4);
  for (const char* name : {"", "a b", "a\rb", "x\x01"}) {
    BOOST_TEST_CONTEXT("name '" << name << "'") {
      r = serve(socks4a_request("u", name, 80));
      BOOST_TEST((r.ec == SocksServerError::invalid_name));
      BOOST_TEST(r.sent == kRejected4);
    }
  }
}

BOOST_AUTO_TEST_CASE(bind_where_allowed) {
  SocksServerOptions options;
  options.allow_bind = true;
  SocksServerHandshake codec(options);
  // SOCKS5 CMD 0x02: the expected peer is DST; nothing after the request is read.
  auto r = drive(codec, hex("05 01 00  05 02 00 01 c0 00 02 07 00 15  aa"));
  BOOST_TEST((r.end == Step::Kind::done));
  BOOST_TEST((codec.request().command == hc::proto::SocksCommand::bind));
  BOOST_TEST(codec.request().target.to_string() == "192.0.2.7:21");
  BOOST_TEST(r.consumed == 13u);
  // SOCKS4 CD 2 and SOCKS4a: the same, in their own encoding.
  r = drive(codec, hex("04 02 00 00 00 00 00 00 00"));
  BOOST_TEST((codec.request().command == hc::proto::SocksCommand::bind));
  BOOST_TEST(codec.request().target.to_string() == "0.0.0.0:0");
  Bytes c4a = socks4a_request("u", "ftp.example", 21);
  c4a[1] = 0x02;
  r = drive(codec, c4a);
  BOOST_TEST((codec.request().command == hc::proto::SocksCommand::bind));
  BOOST_TEST((codec.request().version == SocksVersion::socks4a));
  BOOST_TEST(codec.request().target.to_string() == "ftp.example:21");
  // CONNECT stays CONNECT; unknown commands are still refused.
  r = drive(codec, hex("05 01 00  05 01 00 01 7f 00 00 01 00 50"));
  BOOST_TEST((codec.request().command == hc::proto::SocksCommand::connect));
  r = drive(codec, hex("05 01 00  05 04 00 01 7f 00 00 01 00 50"));
  BOOST_TEST((r.ec == SocksServerError::command_not_supported));
}

BOOST_AUTO_TEST_CASE(bind_replies) {
  SocksServerOptions options;
  options.allow_bind = true;
  SocksServerHandshake codec(options);
  BOOST_TEST(
      (drive(codec, hex("05 01 00  05 02 00 01 00 00 00 00 00 00")).end == Step::Kind::done));
  // Addresses as reply() gives them; a name (a hop known by its name only) as ATYP 3.
  BOOST_TEST(codec.bind_reply(0, {"192.0.2.5", 40123}) == hex("05 00 00 01 c0 00 02 05 9c bb"));
  BOOST_TEST(codec.bind_reply(0, {"gw", 1}) == hex("05 00 00 03 02 67 77 00 01"));
  BOOST_TEST(codec.bind_reply(0x07, {"gw", 1}) == kCommandNotSupported);
  // SOCKS4 has no room for a name: 0.0.0.0, "the server's address".
  BOOST_TEST((drive(codec, hex("04 02 00 00 00 00 00 00 00")).end == Step::Kind::done));
  BOOST_TEST(codec.bind_reply(0, {"192.0.2.5", 40123}) == hex("00 5a 9c bb c0 00 02 05"));
  BOOST_TEST(codec.bind_reply(0, {"gw", 1}) == hex("00 5a 00 00 00 00 00 00"));
}

BOOST_AUTO_TEST_CASE(socks4_commands_and_auth) {
  // BIND (2) where not allowed, and unknown commands: CD 0x5B.
  for (std::uint8_t cd : {0x00, 0x02, 0x03, 0xff}) {
    BOOST_TEST_CONTEXT("CD " << int(cd)) {
      Bytes client = hex("04 01 00 50 7f 00 00 01 00");
      client[1] = cd;
      const auto r = serve(client);
      BOOST_TEST((r.ec == SocksServerError::command_not_supported));
      BOOST_TEST(r.sent == kRejected4);
    }
  }
  // With users configured, SOCKS4 and SOCKS4a are refused: they cannot carry a password.
  for (const auto& client : {hex("04 01 00 50 7f 00 00 01 00"), socks4a_request("alice", "h", 1)}) {
    Checker checker;
    const auto r = serve(client, checker.options());
    BOOST_TEST((r.ec == SocksServerError::socks4_needs_auth));
    BOOST_TEST(r.sent == kRejected4);
    BOOST_TEST(checker.calls.empty());
  }
}

BOOST_AUTO_TEST_CASE(final_replies) {
  using E = SocksServerHandshake;
  BOOST_TEST(E::encode_reply(SocksVersion::socks5, 0, {"127.0.0.1", 1234}) ==
             hex("05 00 00 01 7f 00 00 01 04 d2"));
  BOOST_TEST(E::encode_reply(SocksVersion::socks5, 0, {"::1", 1}) ==
             hex("05 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 01"));
  // Unknown or not an address: zeros, never a name.
  BOOST_TEST(E::encode_reply(SocksVersion::socks5, 0, {}) == hex("05 00 00 01 00 00 00 00 00 00"));
  BOOST_TEST(E::encode_reply(SocksVersion::socks5, 0, {"example.org", 80}) ==
             hex("05 00 00 01 00 00 00 00 00 00"));
  BOOST_TEST(E::encode_reply(SocksVersion::socks5, 0x05, {}) ==
             hex("05 05 00 01 00 00 00 00 00 00"));
  BOOST_TEST(E::encode_reply(SocksVersion::socks4, 0, {"10.0.0.1", 80}) ==
             hex("00 5a 00 50 0a 00 00 01"));
  BOOST_TEST(E::encode_reply(SocksVersion::socks4a, 0, {"::1", 80}) ==
             hex("00 5a 00 00 00 00 00 00"));
  // Any failure is 0x5B for SOCKS4: it has no finer codes a client would understand.
  for (std::uint8_t rep : {0x01, 0x02, 0x05, 0x06}) {
    BOOST_TEST(E::encode_reply(SocksVersion::socks4, rep, {"10.0.0.1", 80}) == kRejected4);
  }

  // reply() answers in the version the client spoke.
  SocksServerHandshake codec;
  const Bytes c4 = socks4a_request("", "h", 80);
  BOOST_TEST((drive(codec, c4).end == Step::Kind::done));
  BOOST_TEST(codec.reply(0, {"1.2.3.4", 5}) == hex("00 5a 00 05 01 02 03 04"));
  const Bytes c5 = hex("05 01 00 05 01 00 01 7f 00 00 01 00 50");
  BOOST_TEST((drive(codec, c5).end == Step::Kind::done));  // start() resets the codec
  BOOST_TEST(codec.reply(0x02) == hex("05 02 00 01 00 00 00 00 00 00"));
}

BOOST_AUTO_TEST_CASE(random_input_never_overreads_or_loops) {
  // Arbitrary bytes after a plausible start, with and without users, in random chunks: the
  // codec ends (or starves) within the input, answers at most a few short messages, and a
  // request it accepts is one it can describe.
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<std::uint8_t>(state >> 24);
  };
  for (int i = 0; i < 20000; ++i) {
    Bytes client(1 + next() % 64);
    for (auto& b : client) {
      b = next();
    }
    client[0] = (i % 3 == 0) ? 0x04 : (i % 3 == 1 ? 0x05 : client[0]);
    if (client.size() > 2 && i % 2 == 0) {
      client[1] = 1 + client[1] % 4;  // NMETHODS small enough to reach the request sometimes
    }
    Checker checker;
    SocksServerHandshake codec(i % 4 == 0 ? checker.options() : SocksServerOptions{});
    const auto r = drive(codec, client, 1 + next() % 8);
    BOOST_TEST_REQUIRE(r.consumed <= client.size());
    BOOST_TEST_REQUIRE(r.sent.size() <= 2 + 2 + 10);
    if (r.end == Step::Kind::done) {
      BOOST_TEST_REQUIRE(!codec.request().target.host.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(runner_contract) {
  // After done or fail the codec repeats itself; more bytes than asked for is a runner bug.
  SocksServerHandshake codec;
  Step step = codec.start();
  BOOST_TEST((step.kind == Step::Kind::recv_exactly));
  BOOST_TEST(step.size == 2u);
  const Bytes three = hex("05 01 00");
  step = codec.resume(three);
  BOOST_TEST((step.kind == Step::Kind::fail));
  BOOST_TEST((step.ec == std::errc::invalid_argument));
  step = codec.resume({});
  BOOST_TEST((step.kind == Step::Kind::fail));

  const Bytes ok = hex("05 01 00 05 01 00 01 7f 00 00 01 00 50");
  BOOST_TEST((drive(codec, ok).end == Step::Kind::done));
  step = codec.resume({});
  BOOST_TEST((step.kind == Step::Kind::done));

  // The messages name what went wrong in words.
  const std::error_code ec = SocksServerError::auth_failed;
  BOOST_TEST(ec.message().find("authentication failed") != std::string::npos);
  BOOST_TEST(std::string(ec.category().name()) == "socks server");
}

BOOST_AUTO_TEST_SUITE_END()
