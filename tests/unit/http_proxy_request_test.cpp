#include "proto/http_proxy_request.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using hc::proto::ChunkedBodyEnd;
using hc::proto::HostPort;
using hc::proto::HttpBodyKind;
using hc::proto::HttpProxyError;
using hc::proto::HttpProxyForm;
using hc::proto::HttpProxyRequestHead;

namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

/// Feeds `input` in pieces of `piece` bytes until the head is done or refused; `unfed` gets
/// what was not fed (the caller's, as leftover() only holds what came with the last piece).
HttpProxyRequestHead::Result feed(HttpProxyRequestHead& head, const std::string& input,
                                  std::size_t piece = 1000000, std::string* unfed = nullptr) {
  auto result = HttpProxyRequestHead::Result::need_more;
  std::size_t at = 0;
  for (; at < input.size() && result == HttpProxyRequestHead::Result::need_more; at += piece) {
    result = head.feed(as_bytes(input).subspan(at, std::min(piece, input.size() - at)));
  }
  if (unfed != nullptr) {
    *unfed = input.substr(std::min(at, input.size()));
  }
  return result;
}

HttpProxyError refusal(const std::string& input) {
  HttpProxyRequestHead head;
  BOOST_TEST_REQUIRE((feed(head, input) == HttpProxyRequestHead::Result::error));
  return static_cast<HttpProxyError>(head.error().value());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_proxy_request)

BOOST_AUTO_TEST_CASE(connect_keeps_what_follows_the_head) {
  for (const std::size_t piece : {1U, 3U, 1000U}) {
    HttpProxyRequestHead head;
    const std::string input =
        "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"
        "Proxy-Authorization: Basic YWxpY2U6czNjcjp0\r\n\r\n\x16\x03";
    std::string unfed;
    BOOST_TEST_REQUIRE((feed(head, input, piece, &unfed) == HttpProxyRequestHead::Result::done));
    const auto& r = head.request();
    BOOST_TEST((r.form == HttpProxyForm::connect));
    BOOST_TEST((r.target == HostPort{"example.org", 443}));
    BOOST_TEST_REQUIRE(r.credentials.has_value());
    BOOST_TEST(r.credentials->user == "alice");
    BOOST_TEST(r.credentials->password == "s3cr:t");
    BOOST_TEST(text(head.leftover()) + unfed == "\x16\x03");
  }
}

BOOST_AUTO_TEST_CASE(connect_needs_a_port_and_takes_ipv6_in_brackets) {
  BOOST_TEST((refusal("CONNECT example.org HTTP/1.1\r\n\r\n") == HttpProxyError::bad_target));
  HttpProxyRequestHead head;
  BOOST_TEST_REQUIRE(
      (feed(head, "CONNECT [::1]:22 HTTP/1.1\n\n") == HttpProxyRequestHead::Result::done));
  BOOST_TEST((head.request().target == HostPort{"::1", 22}));
}

BOOST_AUTO_TEST_CASE(absolute_form_is_rewritten_without_hop_by_hop_headers) {
  HttpProxyRequestHead head;
  const std::string input =
      "GET http://Example.org:8080/a/b?c=d#frag HTTP/1.1\r\nHost: elsewhere\r\n"
      "Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: 300\r\n"
      "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic YTpi\r\nTE: trailers\r\n"
      "Trailer: X\r\nUpgrade: h2c\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n";
  BOOST_TEST_REQUIRE((feed(head, input, 7) == HttpProxyRequestHead::Result::done));
  const auto& r = head.request();
  BOOST_TEST((r.form == HttpProxyForm::absolute));
  BOOST_TEST((r.target == HostPort{"Example.org", 8080}));
  BOOST_TEST((r.body == HttpBodyKind::none));
  BOOST_TEST(text(r.forward_head) ==
             "GET /a/b?c=d HTTP/1.1\r\nHost: Example.org:8080\r\nUser-Agent: test\r\n"
             "Accept: */*\r\n\r\n");
  BOOST_TEST(r.keep_alive);
  BOOST_TEST(head.leftover().empty());
}

BOOST_AUTO_TEST_CASE(the_upstream_connection_persists_when_the_client_does) {
  const auto forwarded = [](const std::string& input, bool keep_alive) {
    HttpProxyRequestHead head;
    BOOST_TEST_REQUIRE((feed(head, input) == HttpProxyRequestHead::Result::done));
    BOOST_TEST(head.request().keep_alive == keep_alive);
    return text(head.request().forward_head);
  };
  BOOST_TEST(forwarded("GET http://h/ HTTP/1.1\r\nConnection: Close\r\n\r\n", false) ==
             "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  BOOST_TEST(forwarded("GET http://h/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true) ==
             "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
  BOOST_TEST(forwarded("GET http://h/ HTTP/1.1\r\nProxy-Connection: close\r\n\r\n", true) ==
             "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(absolute_form_defaults) {
  HttpProxyRequestHead head;
  BOOST_TEST_REQUIRE(
      (feed(head, "HEAD http://h?q HTTP/1.0\r\n\r\n") == HttpProxyRequestHead::Result::done));
  BOOST_TEST((head.request().target == HostPort{"h", 80}));
  BOOST_TEST(!head.request().keep_alive);  // HTTP/1.0 without keep-alive
  BOOST_TEST(text(head.request().forward_head) ==
             "HEAD /?q HTTP/1.0\r\nHost: h\r\nConnection: close\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(body_framing) {
  HttpProxyRequestHead head;
  BOOST_TEST_REQUIRE((feed(head, "POST http://h/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello") ==
                      HttpProxyRequestHead::Result::done));
  BOOST_TEST((head.request().body == HttpBodyKind::length));
  BOOST_TEST(head.request().content_length == 5U);
  BOOST_TEST(text(head.leftover()) == "hello");
  HttpProxyRequestHead chunked;
  BOOST_TEST_REQUIRE(
      (feed(chunked, "POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
       HttpProxyRequestHead::Result::done));
  BOOST_TEST((chunked.request().body == HttpBodyKind::chunked));
  BOOST_TEST((refusal("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Length: 3\r\n\r\n") == HttpProxyError::bad_framing));
  BOOST_TEST(
      (refusal("POST http://h/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") ==
       HttpProxyError::bad_framing));
  BOOST_TEST((refusal("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") ==
              HttpProxyError::bad_framing));
  BOOST_TEST((refusal("POST http://h/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n") ==
              HttpProxyError::bad_framing));
}

BOOST_AUTO_TEST_CASE(refusals) {
  BOOST_TEST((refusal("GET https://h/ HTTP/1.1\r\n\r\n") == HttpProxyError::not_http_scheme));
  BOOST_TEST((refusal("GET /index.html HTTP/1.1\r\n\r\n") == HttpProxyError::origin_form));
  BOOST_TEST((refusal("GET http://u:p@h/ HTTP/1.1\r\n\r\n") == HttpProxyError::bad_target));
  BOOST_TEST((refusal("GET http://h:99999/ HTTP/1.1\r\n\r\n") == HttpProxyError::bad_target));
  BOOST_TEST((refusal("GET http://h/ HTTP/2.0\r\n\r\n") == HttpProxyError::malformed));
  BOOST_TEST(
      (refusal("GET http://h/ HTTP/1.1\r\nBad Name: x\r\n\r\n") == HttpProxyError::malformed));
  BOOST_TEST(
      (refusal("GET http://h/ HTTP/1.1\r\nA: b\r\n folded\r\n\r\n") == HttpProxyError::malformed));
  BOOST_TEST((refusal("GET  http://h/ HTTP/1.1\r\n\r\n") == HttpProxyError::malformed));
  BOOST_TEST((refusal("GET http://h/ HTTP/1.1\r\nX: " + std::string(20000, 'a')) ==
              HttpProxyError::head_too_large));
  BOOST_TEST(std::string(hc::proto::http_status_for(HttpProxyError::head_too_large)) ==
             "431 Request Header Fields Too Large");
}

BOOST_AUTO_TEST_CASE(basic_credentials) {
  using hc::proto::decode_basic_credentials;
  BOOST_TEST(decode_basic_credentials("basic dTpw")->password == "p");
  BOOST_TEST(decode_basic_credentials("Basic dTo=")->password.empty());
  BOOST_TEST(!decode_basic_credentials("Bearer dTpw"));
  BOOST_TEST(!decode_basic_credentials("Basic dTpw="));
  BOOST_TEST(!decode_basic_credentials("Basic dXNlcg=="));  // no colon
  BOOST_TEST(!decode_basic_credentials("Basic d$pw"));
}

BOOST_AUTO_TEST_CASE(chunked_body_end) {
  const std::string body = "4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\nNEXT";
  for (std::size_t piece = 1; piece <= body.size(); ++piece) {
    ChunkedBodyEnd scanner;
    std::size_t consumed = 0;
    for (std::size_t at = 0; at < body.size() && !scanner.done(); at += piece) {
      consumed += scanner.feed(as_bytes(body).subspan(at, std::min(piece, body.size() - at)));
    }
    BOOST_TEST(scanner.done());
    BOOST_TEST(consumed == body.size() - 4);
  }
  ChunkedBodyEnd bare;
  const std::string lf = "3\nabc\n0\n\nrest";
  BOOST_TEST(bare.feed(as_bytes(lf)) == lf.size() - 4);
  ChunkedBodyEnd bad;
  bad.feed(as_bytes(std::string("zz\r\n")));
  BOOST_TEST(bad.failed());
}

BOOST_AUTO_TEST_SUITE_END()
