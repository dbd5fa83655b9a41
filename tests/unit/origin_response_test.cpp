#include "proto/origin_response.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using hc::proto::HttpBodyEnd;
using hc::proto::HttpBodyKind;
using hc::proto::OriginResponseError;
using hc::proto::OriginResponseHead;

namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

/// Feeds `input` in pieces of `piece` bytes until the head is done or refused.
OriginResponseHead::Result feed(OriginResponseHead& head, const std::string& input,
                                std::size_t piece = 1000000) {
  auto result = OriginResponseHead::Result::need_more;
  for (std::size_t at = 0; at < input.size() && result == OriginResponseHead::Result::need_more;
       at += piece) {
    result = head.feed(as_bytes(input).subspan(at, std::min(piece, input.size() - at)));
  }
  return result;
}

OriginResponseError refusal(const std::string& input) {
  OriginResponseHead head(false);
  BOOST_TEST_REQUIRE((feed(head, input) == OriginResponseHead::Result::error));
  return *head.error();
}

/// The body end found in `input` fed in pieces; -1 when the framing failed.
long body_end(HttpBodyKind kind, std::uint64_t length, const std::string& input,
              std::size_t piece) {
  HttpBodyEnd body(kind, length);
  std::size_t taken = 0;
  for (std::size_t at = 0; at < input.size() && !body.done() && !body.failed(); at += piece) {
    taken += body.feed(as_bytes(input).subspan(at, std::min(piece, input.size() - at)));
  }
  return body.failed() ? -1 : static_cast<long>(taken);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(origin_response)

BOOST_AUTO_TEST_CASE(content_length_and_hop_by_hop_fields) {
  for (const std::size_t piece : {1U, 5U, 1000U}) {
    OriginResponseHead head(false);
    const std::string input =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
        "Keep-Alive: timeout=5\r\nServer: t\r\n\r\nhello";
    BOOST_TEST_REQUIRE((feed(head, input, piece) == OriginResponseHead::Result::done));
    const auto& r = head.response();
    BOOST_TEST(r.status == 200U);
    BOOST_TEST((r.body == HttpBodyKind::length));
    BOOST_TEST(r.content_length == 5U);
    BOOST_TEST(r.keep_alive);
    BOOST_TEST(!r.interim);
    BOOST_TEST(text(head.client_head("")) ==
               "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\n");
    BOOST_TEST(text(head.client_head("close")) ==
               "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\nConnection: close\r\n\r\n");
  }
  OriginResponseHead head(false);
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";
  BOOST_TEST_REQUIRE((feed(head, input) == OriginResponseHead::Result::done));
  BOOST_TEST(text(head.leftover()) == "hel");
}

BOOST_AUTO_TEST_CASE(persistence) {
  const auto keeps = [](const std::string& input) {
    OriginResponseHead head(false);
    BOOST_TEST_REQUIRE((feed(head, input) == OriginResponseHead::Result::done));
    return head.response().keep_alive;
  };
  BOOST_TEST(keeps("HTTP/1.1 204 No Content\r\n\r\n"));
  BOOST_TEST(!keeps("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  BOOST_TEST(!keeps("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"));
  BOOST_TEST(keeps("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: Keep-Alive\r\n\r\n"));
  // No framing: the body runs to the close, so the connection cannot carry another response.
  BOOST_TEST(!keeps("HTTP/1.1 200 OK\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(framing) {
  const auto body_of = [](const std::string& input, bool head_request = false) {
    OriginResponseHead head(head_request);
    BOOST_TEST_REQUIRE((feed(head, input) == OriginResponseHead::Result::done));
    return head.response().body;
  };
  BOOST_TEST((body_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
              HttpBodyKind::chunked));
  BOOST_TEST(
      (body_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") == HttpBodyKind::until_close));
  BOOST_TEST((body_of("HTTP/1.1 200 OK\r\n\r\n") == HttpBodyKind::until_close));
  BOOST_TEST((body_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == HttpBodyKind::none));
  // No body whatever the fields say: HEAD, 204, 304 and 1xx.
  BOOST_TEST((body_of("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true) == HttpBodyKind::none));
  BOOST_TEST((body_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true) ==
              HttpBodyKind::none));
  BOOST_TEST(
      (body_of("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n") == HttpBodyKind::none));
  BOOST_TEST((body_of("HTTP/1.1 204 No Content\r\n\r\n") == HttpBodyKind::none));
  OriginResponseHead interim(false);
  BOOST_TEST_REQUIRE((feed(interim, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n") ==
                      OriginResponseHead::Result::done));
  BOOST_TEST(interim.response().interim);
  BOOST_TEST((interim.response().body == HttpBodyKind::none));
  BOOST_TEST(text(interim.leftover()) == "HTTP/1.1 200 OK\r\n");
}

BOOST_AUTO_TEST_CASE(refusals) {
  BOOST_TEST(
      (refusal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") ==
       OriginResponseError::bad_framing));
  BOOST_TEST((refusal("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") ==
              OriginResponseError::bad_framing));
  BOOST_TEST((refusal("HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n") ==
              OriginResponseError::bad_framing));
  BOOST_TEST((refusal("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n") ==
              OriginResponseError::upgrade));
  BOOST_TEST((refusal("HTTP/2 200 OK\r\n\r\n") == OriginResponseError::malformed));
  BOOST_TEST((refusal("HTTP/1.1 20 OK\r\n\r\n") == OriginResponseError::malformed));
  BOOST_TEST((refusal("HTTP/1.1 200OK\r\n\r\n") == OriginResponseError::malformed));
  BOOST_TEST(
      (refusal("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n") == OriginResponseError::malformed));
  BOOST_TEST((refusal("ICY 200 OK\r\n\r\n") == OriginResponseError::malformed));
  BOOST_TEST((refusal("HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a')) ==
              OriginResponseError::head_too_large));
  OriginResponseHead bare(false);
  BOOST_TEST_REQUIRE((feed(bare, "HTTP/1.1 200\n\n") == OriginResponseHead::Result::done));
  BOOST_TEST(bare.response().status == 200U);
}

BOOST_AUTO_TEST_CASE(body_end_by_framing) {
  const std::string chunked = "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 200";
  for (const std::size_t piece : {1U, 4U, 1000U}) {
    BOOST_TEST(body_end(HttpBodyKind::chunked, 0, chunked, piece) ==
               static_cast<long>(chunked.size() - 12));
    BOOST_TEST(body_end(HttpBodyKind::length, 3, "abcdef", piece) == 3);
    BOOST_TEST(body_end(HttpBodyKind::none, 0, "abc", piece) == 0);
    BOOST_TEST(body_end(HttpBodyKind::until_close, 0, "abcdef", piece) == 6);
    BOOST_TEST(body_end(HttpBodyKind::chunked, 0, "zz\r\n", piece) == -1);
  }
  BOOST_TEST(HttpBodyEnd(HttpBodyKind::none, 0).done());
  BOOST_TEST(!HttpBodyEnd(HttpBodyKind::until_close, 0).done());
}

BOOST_AUTO_TEST_SUITE_END()
