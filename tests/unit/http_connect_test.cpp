#include "proto/http_connect.hpp"

#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::Credentials;
using hc::proto::HostPort;
using hc::proto::HttpConnect;
using hc::proto::HttpConnectError;
using hc::proto::HttpResponseHead;
using hc::proto::kHttpMaxHeaderBlock;
using hc::proto::Stage;
using hc::proto::Step;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::drive;
using hc::test::kind;

namespace {

const HostPort kTarget{"example.com", 443};
const std::string kRequest = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";

HttpConnect fresh_codec() {
  return HttpConnect(kTarget, std::nullopt);
}

std::string encoded(const HostPort& target, const std::optional<Credentials>& creds) {
  std::vector<std::uint8_t> out;
  BOOST_TEST_REQUIRE(!HttpConnect::encode(target, creds, out));
  return {out.begin(), out.end()};
}

/// A response head of exactly `size` bytes: status line, one filler header, blank line.
std::string head_of_size(std::size_t size) {
  const std::string start = "HTTP/1.1 200 OK\r\nX-Fill: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'f') + end;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_connect)

// --- request encoding ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(encode_without_credentials) {
  BOOST_TEST(encoded(kTarget, std::nullopt) == kRequest);
}

BOOST_AUTO_TEST_CASE(encode_basic_auth_exact_bytes) {
  BOOST_TEST(encoded(kTarget, Credentials{"Aladdin", "open sesame"}) ==
             "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
             "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(encode_base64_padding) {
  // "a:" / "ab:" / "abc:" cover all three remainders mod 3.
  auto auth = [](const Credentials& c) {
    const std::string req = encoded(kTarget, c);
    const std::string key = "Proxy-Authorization: Basic ";
    const auto pos = req.find(key);
    BOOST_TEST_REQUIRE(pos != std::string::npos);
    return req.substr(pos + key.size(), req.find("\r\n", pos) - pos - key.size());
  };
  BOOST_TEST(auth({"a", ""}) == "YTo=");
  BOOST_TEST(auth({"ab", ""}) == "YWI6");
  BOOST_TEST(auth({"abc", ""}) == "YWJjOg==");
  BOOST_TEST(auth({"user", std::string("p\xff\x00w", 4)}) == "dXNlcjpw/wB3");
}

BOOST_AUTO_TEST_CASE(encode_ipv6_target_bracketed) {
  BOOST_TEST(encoded({"2001:db8::1", 22}, std::nullopt) ==
             "CONNECT [2001:db8::1]:22 HTTP/1.1\r\nHost: [2001:db8::1]:22\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(encode_ipv4_target) {
  BOOST_TEST(encoded({"192.0.2.7", 80}, std::nullopt) ==
             "CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n");
}

BOOST_DATA_TEST_CASE(encode_rejects_bad_host,
                     bdata::make(std::vector<std::string>{
                         "", "a\rb", "a\nb", std::string("a\0b", 3), "a b", "a\tb", "a\x7f",
                         "evil.com:1 HTTP/1.1\r\nX: y", "\x1b[31m"}),
                     host) {
  std::vector<std::uint8_t> out;
  BOOST_TEST(HttpConnect::encode({host, 80}, std::nullopt, out) ==
             make_error_code(HttpConnectError::invalid_host));
  BOOST_TEST(out.empty());

  // Nothing is sent: start() fails at once.
  HttpConnect codec({host, 80}, std::nullopt);
  const auto r = drive(codec, {});
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::invalid_host));
  BOOST_TEST((r.stage == Stage::request));
  BOOST_TEST(r.sent.empty());
}

BOOST_AUTO_TEST_CASE(encode_credential_limits) {
  std::vector<std::uint8_t> out;
  const std::string max(255, 'u');
  const std::string over(256, 'u');
  BOOST_TEST(!HttpConnect::encode(kTarget, Credentials{max, max}, out));
  out.clear();
  BOOST_TEST(HttpConnect::encode(kTarget, Credentials{over, "p"}, out) ==
             make_error_code(HttpConnectError::credentials_too_long));
  BOOST_TEST(out.empty());
  BOOST_TEST(HttpConnect::encode(kTarget, Credentials{"u", over}, out) ==
             make_error_code(HttpConnectError::credentials_too_long));
  BOOST_TEST(out.empty());

  HttpConnect codec(kTarget, Credentials{"u", over});
  const auto r = drive(codec, {});
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::credentials_too_long));
  BOOST_TEST(r.sent.empty());
}

// --- handshake steps -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(steps_send_then_recv_some) {
  HttpConnect codec(kTarget, std::nullopt);
  const Step first = codec.start();
  BOOST_TEST(kind(first.kind) == "send");
  BOOST_TEST((first.stage == Stage::request));
  BOOST_TEST(first.bytes == bytes(kRequest));
  const Step second = codec.resume({});
  BOOST_TEST(kind(second.kind) == "recv_some");
  BOOST_TEST(second.size == 4096u);
  BOOST_TEST((second.stage == Stage::request));
}

BOOST_DATA_TEST_CASE(success_statuses,
                     bdata::make(std::vector<std::string>{
                         "HTTP/1.1 200 Connection established\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nProxy-Agent: test/1.0\r\n\r\n",
                         "HTTP/1.1 200\r\n\r\n",
                         "HTTP/1.1 200 \r\n\r\n",
                         "HTTP/1.0 200 Connection established\r\n\r\n",
                         "HTTP/1.1 204 No Content\r\n\r\n",
                         "HTTP/1.1 200 OK\nServer: x\n\n",
                         "HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\n",
                     }),
                     reply) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes(reply));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(r.sent == bytes(kRequest));
  BOOST_TEST(r.leftover.empty());
  BOOST_TEST(r.consumed == reply.size());
  BOOST_TEST(codec.detail().empty());
}

BOOST_AUTO_TEST_CASE(status_and_headers_parsed) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.0 200 Connection established\r\n"
                                    "Proxy-Agent:  squid/5 \r\n"
                                    "X-Folded: a\r\n"
                                    "\t b\r\n"
                                    "X-Empty:\r\n"
                                    "\r\n"));
  BOOST_TEST(kind(r.end) == "done");
  const HttpResponseHead& head = codec.response();
  BOOST_TEST(head.status() == 200);
  BOOST_TEST(head.status_line() == "HTTP/1.0 200 Connection established");
  BOOST_TEST(head.header("proxy-agent").value_or("-") == "squid/5");
  BOOST_TEST(head.header("X-FOLDED").value_or("-") == "a b");
  BOOST_TEST(head.header("x-empty").value_or("-") == "");
  BOOST_TEST(!head.header("Content-Length"));
}

BOOST_AUTO_TEST_CASE(forbidden_403) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(403));
  BOOST_TEST((r.stage == Stage::request));
  BOOST_TEST(codec.detail() == "HTTP/1.1 403 Forbidden");
}

BOOST_AUTO_TEST_CASE(bad_gateway_502) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 502 Bad Gateway\r\n\r\n<html>body</html>"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(502));
  BOOST_TEST(codec.detail() == "HTTP/1.1 502 Bad Gateway");
}

BOOST_AUTO_TEST_CASE(status_101_is_a_failure) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(101));
}

// --- interim (1xx) responses -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(interim_alone_waits_for_the_final_response) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 100 Continue\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "recv_some");
}

BOOST_AUTO_TEST_CASE(interim_then_200_in_every_chunking) {
  const std::string heads =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
      "Link: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
  const Bytes reply = bytes(heads + "PAYLOAD");
  hc::test::for_each_chunk_size(
      hc::test::chunk_sizes_up_to(reply.size()), fresh_codec, reply,
      [&](const hc::test::DriveResult& r) {
        BOOST_TEST_REQUIRE(kind(r.end) == "done");
        BOOST_TEST(r.consumed >= heads.size());
        BOOST_TEST(r.leftover == Bytes(reply.begin() + static_cast<std::ptrdiff_t>(heads.size()),
                                       reply.begin() + static_cast<std::ptrdiff_t>(r.consumed)));
      });
  HttpConnect codec(kTarget, std::nullopt);
  BOOST_TEST(kind(drive(codec, reply).end) == "done");
  BOOST_TEST(codec.response().status() == 200);
  BOOST_TEST(codec.detail().empty());
}

BOOST_AUTO_TEST_CASE(interim_then_refusal_names_the_final_status) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 102 Processing\r\n\r\n"
                                    "HTTP/1.1 403 Forbidden\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(403));
  BOOST_TEST(codec.detail() == "HTTP/1.1 403 Forbidden");
}

BOOST_AUTO_TEST_CASE(interim_heads_share_the_header_limit) {
  // Endless 100s never reach a final response: the one limit ends them.
  std::string reply;
  while (reply.size() <= kHttpMaxHeaderBlock) {
    reply += "HTTP/1.1 100 Continue\r\n\r\n";
  }
  hc::test::for_each_chunk_size(
      {1, 4096}, fresh_codec, bytes(reply + "HTTP/1.1 200 OK\r\n\r\n"),
      [](const hc::test::DriveResult& r) {
        BOOST_TEST(kind(r.end) == "fail");
        BOOST_TEST(r.ec == make_error_code(HttpConnectError::header_too_large));
        BOOST_TEST(r.consumed <= kHttpMaxHeaderBlock + 4096);
      });
  // Interim heads and the final head together exactly at the limit still pass.
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_head = head_of_size(kHttpMaxHeaderBlock - interim.size());
  HttpConnect codec(kTarget, std::nullopt);
  BOOST_TEST(kind(drive(codec, bytes(interim + final_head)).end) == "done");
  HttpConnect over(kTarget, std::nullopt);
  const auto r =
      drive(over, bytes(interim + head_of_size(kHttpMaxHeaderBlock - interim.size() + 1)));
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::header_too_large));
}

BOOST_AUTO_TEST_CASE(auth_required_407_with_challenge) {
  HttpConnect codec(kTarget, Credentials{"u", "wrong"});
  const auto r = drive(codec, bytes("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                    "proxy-authenticate: Basic realm=\"x\"\r\n"
                                    "Proxy-Authenticate: Digest realm=\"y\"\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(407));
  BOOST_TEST(codec.detail() ==
             "HTTP/1.1 407 Proxy Authentication Required (Proxy-Authenticate: Basic realm=\"x\")");
}

BOOST_AUTO_TEST_CASE(auth_required_407_without_challenge) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == hc::proto::http_status(407));
  BOOST_TEST(codec.detail() == "HTTP/1.1 407 Proxy Authentication Required");
}

BOOST_AUTO_TEST_CASE(detail_is_sanitized_and_bounded) {
  {
    HttpConnect codec(kTarget, std::nullopt);
    drive(codec, bytes("HTTP/1.1 403 No\x1b[31m entry\xc3\xa9\r\n\r\n"));
    BOOST_TEST(codec.detail() == "HTTP/1.1 403 No?[31m entry??");
  }
  {
    HttpConnect codec(kTarget, std::nullopt);
    drive(codec, bytes("HTTP/1.1 403 " + std::string(1000, 'r') + "\r\n\r\n"));
    BOOST_TEST(codec.detail().size() == 200u);
    BOOST_TEST(codec.response().status_line().size() == 200u);
  }
  {
    HttpConnect codec(kTarget, std::nullopt);
    drive(codec, bytes("HTTP/1.1 407 " + std::string(1000, 'r') +
                       "\r\nProxy-Authenticate: Basic realm=\"" + std::string(1000, 'x') +
                       "\x07\"\r\n\r\n"));
    const std::string d = codec.detail();
    BOOST_TEST(d.size() <= 256u);
    BOOST_TEST(d.find("Proxy-Authenticate: Basic") != std::string::npos);
    for (const char c : d) {
      BOOST_TEST_REQUIRE((c >= 0x20 && c < 0x7f));
    }
  }
}

// --- leftover and chunking -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(payload_glued_to_reply_is_leftover) {
  // Binary payload, including NUL and a CRLFCRLF of its own, must come through untouched.
  const Bytes payload = hc::test::concat(
      {bytes("SSH-2.0-OpenSSH_9.2\r\n"), hc::test::hex("00 ff 0d 0a 0d 0a 7f 80")});
  const Bytes reply =
      hc::test::concat({bytes("HTTP/1.1 200 Connection established\r\n\r\n"), payload});
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, reply);
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(r.leftover == payload);
  BOOST_TEST(r.consumed == reply.size());
}

BOOST_AUTO_TEST_CASE(payload_after_lf_only_reply) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("HTTP/1.1 200 OK\nServer: x\n\nPAYLOAD\r\n"));
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(r.leftover == bytes("PAYLOAD\r\n"));
}

BOOST_AUTO_TEST_CASE(one_byte_at_a_time_reads_no_payload) {
  hc::test::expect_payload_untouched(
      fresh_codec, bytes("HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n"), bytes("PAYLOAD"), {1});
}

BOOST_AUTO_TEST_CASE(every_chunk_size_gives_the_same_stream) {
  const std::string head = "HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n";
  const Bytes reply = bytes(head + "0123456789");
  hc::test::for_each_chunk_size(
      hc::test::chunk_sizes_up_to(reply.size()), fresh_codec, reply,
      [&](const hc::test::DriveResult& r) {
        BOOST_TEST_REQUIRE(kind(r.end) == "done");
        // What was read past the head is exactly the leftover, in order.
        BOOST_TEST(r.consumed >= head.size());
        BOOST_TEST(r.leftover == Bytes(reply.begin() + static_cast<std::ptrdiff_t>(head.size()),
                                       reply.begin() + static_cast<std::ptrdiff_t>(r.consumed)));
      });
}

BOOST_AUTO_TEST_CASE(truncated_at_every_prefix_starves) {
  // The codec reads what is there, so it holds every byte of a prefix while it waits.
  hc::test::expect_every_prefix_starves(
      fresh_codec, bytes("HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n"), {1, 4096},
      [](const hc::test::DriveResult& r, std::size_t len) {
        BOOST_TEST(kind(r.end) == "recv_some");
        BOOST_TEST(r.consumed == len);
      });
}

// --- malformed replies -----------------------------------------------------------------------

BOOST_DATA_TEST_CASE(bad_status_lines,
                     bdata::make(std::vector<std::string>{
                         "SSH-2.0-OpenSSH_9.2\r\n",
                         "\r\n\r\n",
                         "\n\n",
                         "HTTP/2 200\r\n\r\n",
                         "HTTP/1.x 200 OK\r\n\r\n",
                         "http/1.1 200 OK\r\n\r\n",
                         "HTTP/1.1 20\r\n\r\n",
                         "HTTP/1.1 2000\r\n\r\n",
                         "HTTP/1.1  200 OK\r\n\r\n",
                         "HTTP/1.1 2x0 OK\r\n\r\n",
                         "HTTP/1.1 000 Zero\r\n\r\n",
                         "HTTP/1.1 200\tOK\r\n\r\n",
                         "HTTP/1.1 200\rOK\r\n\r\n",
                         " HTTP/1.1 200 OK\r\n\r\n",
                         "HTTP/1.1\r\n\r\n",
                     }),
                     reply) {
  hc::test::for_each_chunk_size(
      {1, 4096}, fresh_codec, bytes(reply), [](const hc::test::DriveResult& r) {
        BOOST_TEST(kind(r.end) == "fail");
        BOOST_TEST(r.ec == make_error_code(HttpConnectError::bad_status_line));
        BOOST_TEST((r.stage == Stage::request));
      });
}

BOOST_AUTO_TEST_CASE(foreign_protocol_refused_without_waiting_for_a_line_end) {
  // An SSH server speaks first and then waits: fail on the first byte that cannot be HTTP.
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes("SSH-"), 1);
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::bad_status_line));
  BOOST_TEST(r.consumed == 1u);
  BOOST_TEST(codec.detail() == "S");
}

BOOST_DATA_TEST_CASE(bad_headers,
                     bdata::make(std::vector<std::string>{
                         "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
                         "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
                         "HTTP/1.1 200 OK\r\n continuation first\r\n\r\n",
                     }),
                     reply) {
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes(reply));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::bad_header));
}

BOOST_AUTO_TEST_CASE(head_exactly_at_limit) {
  const std::string head = head_of_size(kHttpMaxHeaderBlock);
  BOOST_TEST_REQUIRE(head.size() == kHttpMaxHeaderBlock);
  hc::test::for_each_chunk_size({1, 4096}, fresh_codec, bytes(head + "tail"),
                                [&](const hc::test::DriveResult& r) {
                                  BOOST_TEST(kind(r.end) == "done");
                                  BOOST_TEST(r.consumed >= head.size());
                                });
  // Leftover in the same buffer does not count against the limit.
  HttpResponseHead parser;
  BOOST_TEST((parser.feed(bytes(head + std::string(5000, 'p'))) == HttpResponseHead::Result::done));
  BOOST_TEST(parser.leftover().size() == 5000u);
}

BOOST_AUTO_TEST_CASE(head_one_over_limit) {
  const std::string head = head_of_size(kHttpMaxHeaderBlock + 1);
  hc::test::for_each_chunk_size(
      {1, 4096}, fresh_codec, bytes(head), [](const hc::test::DriveResult& r) {
        BOOST_TEST(kind(r.end) == "fail");
        BOOST_TEST(r.ec == make_error_code(HttpConnectError::header_too_large));
        BOOST_TEST(r.consumed <= kHttpMaxHeaderBlock + 4096);
      });
}

BOOST_AUTO_TEST_CASE(no_line_end_within_limit) {
  const std::string reply = "HTTP/1.1 200 OK" + std::string(2 * kHttpMaxHeaderBlock, 'a');
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes(reply), 1);
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::header_too_large));
  BOOST_TEST(r.consumed == kHttpMaxHeaderBlock);
}

BOOST_AUTO_TEST_CASE(many_lf_only_headers_over_limit) {
  std::string reply = "HTTP/1.1 200 OK\n";
  while (reply.size() <= kHttpMaxHeaderBlock) {
    reply += "A: b\n";
  }
  HttpConnect codec(kTarget, std::nullopt);
  const auto r = drive(codec, bytes(reply + "\n"));
  BOOST_TEST(kind(r.end) == "fail");
  BOOST_TEST(r.ec == make_error_code(HttpConnectError::header_too_large));
}

// --- the parser on its own -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parser_result_is_sticky) {
  HttpResponseHead done;
  BOOST_TEST((done.feed(bytes("HTTP/1.1 200 OK\r\n\r\nab")) == HttpResponseHead::Result::done));
  BOOST_TEST((done.feed(bytes("cd")) == HttpResponseHead::Result::done));
  BOOST_TEST(Bytes(done.leftover().begin(), done.leftover().end()) == bytes("ab"));
  BOOST_TEST(!done.error());

  HttpResponseHead bad;
  BOOST_TEST((bad.feed(bytes("HTTP/1.1 200 OK\r\nx\r\n")) == HttpResponseHead::Result::need_more));
  BOOST_TEST((bad.feed(bytes("\r\n")) == HttpResponseHead::Result::error));
  BOOST_TEST((bad.feed(bytes("HTTP/1.1 200 OK\r\n\r\n")) == HttpResponseHead::Result::error));
  BOOST_TEST(bad.error() == make_error_code(HttpConnectError::bad_header));
  BOOST_TEST(bad.leftover().empty());
}

BOOST_AUTO_TEST_CASE(parser_empty_feed_needs_more) {
  HttpResponseHead parser;
  BOOST_TEST((parser.feed({}) == HttpResponseHead::Result::need_more));
  BOOST_TEST((parser.feed(bytes("HTTP/1.1 2")) == HttpResponseHead::Result::need_more));
  BOOST_TEST((parser.feed({}) == HttpResponseHead::Result::need_more));
  BOOST_TEST((parser.feed(bytes("01 Created\r\n\r\n")) == HttpResponseHead::Result::done));
  BOOST_TEST(parser.status() == 201);
}

BOOST_AUTO_TEST_SUITE_END()
