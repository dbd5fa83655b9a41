#include "transport/tls_session_file.hpp"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

using hc::transport::parse_session_lines;
using hc::transport::render_session_lines;
using hc::transport::SessionLine;
using hc::transport::unsafe_session_file;

BOOST_AUTO_TEST_SUITE(tls_session_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_keys_with_spaces_and_binary_der) {
  const std::vector<SessionLine> in{
      {"127.0.0.1:443 localhost verify=/ca.pem cert=", 200, std::string("\x00\xff\x30 x", 5)}};
  const auto out = parse_session_lines(render_session_lines(in), 100);
  BOOST_REQUIRE_EQUAL(out.size(), 1U);
  BOOST_TEST(out[0].key == in[0].key);
  BOOST_TEST(out[0].expiry == 200);
  BOOST_TEST(out[0].der == in[0].der);
}

BOOST_AUTO_TEST_CASE(garbage_and_expired_lines_are_skipped) {
  const std::string text =
      "garbage\n 300 00\nk 12x 00\nk 300 0g\nk 300 abc\nold 99 00\nok key 300 0a\n\n";
  const auto out = parse_session_lines(text, 100);
  BOOST_REQUIRE_EQUAL(out.size(), 1U);
  BOOST_TEST(out[0].key == "ok key");
  BOOST_TEST(out[0].der == "\n");
}

BOOST_AUTO_TEST_CASE(cap_keeps_the_latest) {
  std::vector<SessionLine> in;
  for (int i = 0; i < 70; ++i) {
    in.push_back({"k" + std::to_string(i), 1000 + i, "x"});
  }
  const auto out = parse_session_lines(render_session_lines(in), 0);
  BOOST_REQUIRE_EQUAL(out.size(), 64U);
  for (const auto& line : out) {
    BOOST_TEST(line.expiry >= 1006);
  }
}

BOOST_AUTO_TEST_CASE(only_private_regular_files_of_the_user_are_trusted) {
  BOOST_TEST(!unsafe_session_file(1000, S_IFREG | 0600, 1000));
  BOOST_TEST(!unsafe_session_file(1000, S_IFREG | 0400, 1000));
  BOOST_TEST(*unsafe_session_file(0, S_IFREG | 0600, 1000) == "owned by another user");
  BOOST_TEST(unsafe_session_file(1000, S_IFREG | 0666, 1000).has_value());
  BOOST_TEST(unsafe_session_file(1000, S_IFREG | 0640, 1000).has_value());
  BOOST_TEST(unsafe_session_file(1000, S_IFREG | 0602, 1000).has_value());
  BOOST_TEST(unsafe_session_file(1000, S_IFIFO | 0600, 1000).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
