#include "proto/proxy_url.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::Credentials;
using hc::proto::HopSpec;
using hc::proto::parse_chain_file;
using hc::proto::parse_proxy_url;
using hc::proto::Protocol;
using hc::proto::UrlError;
using hc::test::BadUrlCase;
using hc::test::parse_ok;
using hc::test::UrlCase;

namespace {

std::string pct(const std::string& raw) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    out += '%';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_url)

BOOST_DATA_TEST_CASE(
    schemes_hosts_and_ports,
    bdata::make(std::vector<UrlCase>{
        {"socks4://h", "socks4", Protocol::socks4, false, "h", 1080},
        {"socks4a://h", "socks4a", Protocol::socks4, true, "h", 1080},
        {"socks5://h", "socks5", Protocol::socks5, false, "h", 1080},
        {"socks5h://h", "socks5h", Protocol::socks5, true, "h", 1080},
        {"http://h", "http", Protocol::http, true, "h", 8080},
        {"SOCKS5H://Proxy.Example:1", "socks5h", Protocol::socks5, true, "Proxy.Example", 1},
        {"HtTp://proxy-1.example_x.com:3128/", "http", Protocol::http, true,
         "proxy-1.example_x.com", 3128},
        {"socks5://10.0.0.1:65535", "socks5", Protocol::socks5, false, "10.0.0.1", 65535},
        {"socks5://h:00080", "socks5", Protocol::socks5, false, "h", 80},
        {"socks5://h/", "socks5", Protocol::socks5, false, "h", 1080},
        {"socks5h://[::1]", "socks5h", Protocol::socks5, true, "::1", 1080},
        {"socks5://[2001:db8::1]:9050/", "socks5", Protocol::socks5, false, "2001:db8::1", 9050},
        {"http://[::ffff:192.0.2.1]:3128", "http", Protocol::http, true, "::ffff:192.0.2.1", 3128},
    }),
    c) {
  const HopSpec hop = hc::test::expect_parsed(c);
  BOOST_TEST(!hop.tls);
  BOOST_TEST(!hop.user);
  BOOST_TEST(!hop.password);
  BOOST_TEST(!hop.credentials());
}

BOOST_AUTO_TEST_CASE(userinfo_percent_decoded) {
  const HopSpec hop = parse_ok("socks5h://a%40b:p%3Ax%25y@h:1");
  BOOST_TEST(hop.user.value_or("-") == "a@b");
  BOOST_TEST(hop.password.value_or("-") == "p:x%y");
  BOOST_TEST(hop.server.host == "h");
  BOOST_TEST((hop.credentials() == Credentials{"a@b", "p:x%y"}));
}

BOOST_AUTO_TEST_CASE(userinfo_split_at_last_at) {
  const HopSpec hop = parse_ok("http://u:p@ss@h:3128");
  BOOST_TEST(hop.user.value_or("-") == "u");
  BOOST_TEST(hop.password.value_or("-") == "p@ss");
  BOOST_TEST(hop.server.host == "h");
}

BOOST_AUTO_TEST_CASE(userinfo_shapes) {
  {
    const HopSpec hop = parse_ok("socks5://@h");
    BOOST_TEST(!hop.user);
    BOOST_TEST(!hop.credentials());
  }
  {
    const HopSpec hop = parse_ok("socks5://:pw@h");
    BOOST_TEST(hop.user.value_or("-") == "");
    BOOST_TEST(hop.password.value_or("-") == "pw");
  }
  {
    const HopSpec hop = parse_ok("socks5://u:@h");
    BOOST_TEST(hop.password.value_or("-") == "");
  }
  {
    // Raw UTF-8 in a user name is passed through.
    const HopSpec hop = parse_ok("socks5://j\xc3\xb6rg:pw@h");
    BOOST_TEST(hop.user.value_or("-") == "j\xc3\xb6rg");
  }
}

BOOST_AUTO_TEST_CASE(credentials_by_protocol) {
  BOOST_TEST((parse_ok("socks4://alice@h").credentials() == Credentials{"alice", ""}));
  BOOST_TEST((parse_ok("socks4a://alice@h").credentials() == Credentials{"alice", ""}));
  BOOST_TEST((parse_ok("socks5://alice@h").credentials() == Credentials{"alice", ""}));
  BOOST_TEST((parse_ok("http://alice@h").credentials() == Credentials{"alice", ""}));
  BOOST_TEST((parse_ok("socks5://alice:pw@h").credentials() == Credentials{"alice", "pw"}));
  BOOST_TEST(!parse_ok("http://h").credentials());
}

BOOST_AUTO_TEST_CASE(field_length_limits) {
  const std::string f255(255, 'a');
  const std::string f256(256, 'a');
  BOOST_TEST(parse_ok("socks5://" + f255 + ":" + f255 + "@" + f255).server.host == f255);
  // The limit applies after decoding: 255 encoded bytes are 765 characters.
  BOOST_TEST(parse_ok("socks5://" + pct(f255) + "@h").user.value_or("") == f255);

  HopSpec hop;
  for (const std::string& url : {
           "socks5://" + f256 + "@h",
           "socks5://u:" + f256 + "@h",
           "socks5://" + f256,
           "socks5://" + f256 + ":1080",
           "socks5://" + pct(f256) + "@h",
           "socks4a://" + f256 + "@h",
       }) {
    BOOST_TEST(parse_proxy_url(url, hop) == make_error_code(UrlError::field_too_long), url);
  }
}

BOOST_DATA_TEST_CASE(rejected,
                     bdata::make(std::vector<BadUrlCase>{
                         // scheme
                         {"h:1080", UrlError::missing_scheme},
                         {"", UrlError::missing_scheme},
                         {"socks5:/h", UrlError::missing_scheme},
                         {"://h", UrlError::missing_scheme},
                         {"http+tls://h", UrlError::unknown_scheme},
                         {"socks://h", UrlError::unknown_scheme},
                         {"socks6://h", UrlError::unknown_scheme},
                         {"ftp://h", UrlError::unknown_scheme},
                         {"socks5h+ssl://h", UrlError::unknown_scheme},
                         // host
                         {"socks5://", UrlError::missing_host},
                         {"socks5:///", UrlError::missing_host},
                         {"socks5://:1080", UrlError::missing_host},
                         {"socks5://user@", UrlError::missing_host},
                         {"socks5://u:p@:1", UrlError::missing_host},
                         {"socks5://h!st", UrlError::forbidden_character},
                         {"socks5://h%41", UrlError::forbidden_character},
                         {"socks5://h\xc3\xb6st", UrlError::forbidden_character},
                         // port
                         {"socks5://h:0", UrlError::bad_port},
                         {"socks5://h:65536", UrlError::bad_port},
                         {"socks5://h:99999999999999999999", UrlError::bad_port},
                         {"socks5://h:abc", UrlError::bad_port},
                         {"socks5://h:", UrlError::bad_port},
                         {"socks5://h:-1", UrlError::bad_port},
                         {"socks5://h:+80", UrlError::bad_port},
                         {"socks5://h:8o", UrlError::bad_port},
                         {"socks5://[::1]:", UrlError::bad_port},
                         {"socks5://[::1]:0", UrlError::bad_port},
                         // IPv6
                         {"socks5://[::1", UrlError::bad_ipv6_literal},
                         {"socks5://[]", UrlError::bad_ipv6_literal},
                         {"socks5://[zz::1]", UrlError::bad_ipv6_literal},
                         {"socks5://[1.2.3.4]", UrlError::bad_ipv6_literal},
                         {"socks5://[fe80::1%25eth0]", UrlError::bad_ipv6_literal},
                         {"socks5://::1", UrlError::bad_ipv6_literal},
                         {"socks5://2001:db8::1:1080", UrlError::bad_ipv6_literal},
                         {"socks5://[::1]x", UrlError::unexpected_path},
                         // path, query, fragment
                         {"socks5://h:1080/x", UrlError::unexpected_path},
                         {"socks5://h//", UrlError::unexpected_path},
                         {"socks5://h?x", UrlError::unknown_parameter},
                         {"socks5://h?cafile=/ca.pem", UrlError::query_without_tls},
                         {"http://h?grants-early=1&insecure=1", UrlError::query_without_tls},
                         {"socks5://h?grants-early=2", UrlError::bad_parameter_value},
                         {"socks5://h?grants-early=", UrlError::bad_parameter_value},
                         {"socks5://h?grants-early", UrlError::bad_parameter_value},
                         {"socks5://h?grants-early=1&grants-early=1",
                          UrlError::duplicate_parameter},
                         {"socks5://h?grant-early=1", UrlError::unknown_parameter},
                         {"socks5://h#frag", UrlError::unexpected_path},
                         {"socks5://u:p/w@h", UrlError::unexpected_path},
                         // percent-encoding
                         {"socks5://%@h", UrlError::bad_percent_encoding},
                         {"socks5://u%4@h", UrlError::bad_percent_encoding},
                         {"socks5://u%zz@h", UrlError::bad_percent_encoding},
                         {"socks5://u:%G0@h", UrlError::bad_percent_encoding},
                         {"socks5://u:pw%@h", UrlError::bad_percent_encoding},
                         // forbidden characters, raw and decoded
                         {"socks5://h\r", UrlError::forbidden_character},
                         {"socks5://h\n", UrlError::forbidden_character},
                         {std::string("socks5://h\0", 11), UrlError::forbidden_character},
                         {std::string("socks5://u\0@h", 13), UrlError::forbidden_character},
                         {"socks5://u:p w@h", UrlError::forbidden_character},
                         {"socks5://u:p\tw@h", UrlError::forbidden_character},
                         {"socks5://u\x7f@h", UrlError::forbidden_character},
                         {" socks5://h", UrlError::forbidden_character},
                         {"socks5://u%0D%0AX@h", UrlError::forbidden_character},
                         {"socks5://u:%0A@h", UrlError::forbidden_character},
                         {"socks5://u%00@h", UrlError::forbidden_character},
                         {"socks5://u%7F@h", UrlError::forbidden_character},
                         // socks4 has no password
                         {"socks4://u:p@h", UrlError::password_not_allowed},
                         {"socks4a://u:@h", UrlError::password_not_allowed},
                         {"socks4://:p@h", UrlError::password_not_allowed},
                     }),
                     c) {
  hc::test::expect_rejected(c);
}

// --- grants-early ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(grants_early_on_any_scheme) {
  BOOST_TEST(!parse_ok("socks5h://h").grants_early);
  BOOST_TEST(parse_ok("socks5h://h:1080?grants-early=1").grants_early);
  BOOST_TEST(parse_ok("socks5://u:p@h/?grants-early=1&").grants_early);
  BOOST_TEST(parse_ok("http://h?grants-early=1").grants_early);
  BOOST_TEST(!parse_ok("socks4a://h?grants-early=0").grants_early);
  const HopSpec tls = parse_ok("socks5h+tls://h?insecure=1&grants-early=1");
  BOOST_TEST(tls.grants_early);
  BOOST_TEST(tls.tls_options.insecure);
  // An empty query is no setting at all, on any scheme.
  BOOST_TEST(!parse_ok("socks5://h/?").grants_early);
}

// --- redacted() ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(redacted_forms) {
  BOOST_TEST(parse_ok("SOCKS5H://user:pw@host").redacted() == "socks5h://user@host:1080");
  BOOST_TEST(parse_ok("http://proxy:3128/").redacted() == "http://proxy:3128");
  BOOST_TEST(parse_ok("socks5://[::1]:9050").redacted() == "socks5://[::1]:9050");
  BOOST_TEST(parse_ok("socks4://alice@10.1.2.3").redacted() == "socks4://alice@10.1.2.3:1080");
  BOOST_TEST(parse_ok("socks5://@h").redacted() == "socks5://h:1080");
  BOOST_TEST(parse_ok("socks5://:pw@h").redacted() == "socks5://@h:1080");
}

BOOST_DATA_TEST_CASE(redacted_never_has_the_password,
                     bdata::make(std::vector<std::string>{
                         "socks5://u:S3cr3tPW@h",
                         "socks5h://u:S3cr3tPW%40h@h",
                         "http://u:S3cr3tPW@[::1]:8080/",
                         "http://u:%53%33cr3tPW@h",
                         "socks5://u:S3cr3tPW@ss@h",
                         "socks5://:S3cr3tPW@h",
                     }),
                     url) {
  const HopSpec hop = parse_ok(url);
  BOOST_TEST(hop.password.value_or("").find("S3cr3tPW") != std::string::npos);
  const std::string red = hop.redacted();
  BOOST_TEST(red.find(*hop.password) == std::string::npos, red);
  BOOST_TEST(red.find(":S3cr3tPW") == std::string::npos, red);
}

BOOST_AUTO_TEST_CASE(redacted_escapes_control_characters) {
  HopSpec hop;
  hop.scheme = "socks5";
  hop.server = {"h", 1080};
  hop.user = std::string("a\nb\x1b\x7f\\c\0", 8);
  hop.password = "secret";
  BOOST_TEST(hop.redacted() == "socks5://a\\x0ab\\x1b\\x7f\\x5cc\\x00@h:1080");
}

// --- chain files -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(chain_file_with_comments) {
  const auto r = parse_chain_file(
      "# entry hop\r\n"
      "\r\n"
      "   socks5h://user:pw@first:1080   # the bastion\r\n"
      "\t# indented comment\n"
      "http://[::1]:3128/\t#tab before the comment\n"
      "   \n"
      "socks4a://id@third");
  BOOST_TEST(!r.ec, r.ec.message());
  BOOST_TEST(r.error_line == 0u);
  BOOST_TEST_REQUIRE(r.hops.size() == 3u);
  BOOST_TEST(r.hops[0].redacted() == "socks5h://user@first:1080");
  BOOST_TEST(r.hops[0].password.value_or("-") == "pw");
  BOOST_TEST(r.hops[1].redacted() == "http://[::1]:3128");
  BOOST_TEST(r.hops[2].redacted() == "socks4a://id@third:1080");
}

BOOST_AUTO_TEST_CASE(chain_file_empty) {
  BOOST_TEST(parse_chain_file("").hops.empty());
  BOOST_TEST(!parse_chain_file("").ec);
  const auto r = parse_chain_file("\n# nothing\n  \r\n");
  BOOST_TEST(r.hops.empty());
  BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_CASE(chain_file_error_on_line_3) {
  const auto r = parse_chain_file(
      "socks5://a:1080\n"
      "# comment\n"
      "socks5://b:99999\n"
      "socks5://c:1080\n");
  BOOST_TEST(r.ec == make_error_code(UrlError::bad_port));
  BOOST_TEST(r.error_line == 3u);
  // No partial chain that a careless caller could connect through.
  BOOST_TEST(r.hops.empty());
}

BOOST_AUTO_TEST_CASE(chain_file_error_line_counts_crlf_and_blank_lines) {
  const auto r = parse_chain_file("\r\n\r\nsocks5://ok\r\n\r\nsocks9://bad\r\n");
  BOOST_TEST(r.ec == make_error_code(UrlError::unknown_scheme));
  BOOST_TEST(r.error_line == 5u);
}

BOOST_AUTO_TEST_CASE(chain_file_hash_inside_url_is_not_a_comment) {
  const auto r = parse_chain_file("socks5://h:1080#frag\n");
  BOOST_TEST(r.ec == make_error_code(UrlError::unexpected_path));
  BOOST_TEST(r.error_line == 1u);
}

BOOST_AUTO_TEST_CASE(chain_file_control_character_in_line) {
  const auto r = parse_chain_file("socks5://a\nsocks5://b\x01\n");
  BOOST_TEST(r.ec == make_error_code(UrlError::forbidden_character));
  BOOST_TEST(r.error_line == 2u);
}

BOOST_AUTO_TEST_CASE(percent_encoded_space_in_password_is_kept) {
  hc::proto::HopSpec hop;
  BOOST_TEST(!hc::proto::parse_proxy_url("socks5://u:p%20w@h", hop));
  BOOST_TEST(hop.password.value_or("") == "p w");
  BOOST_TEST(hc::proto::parse_proxy_url("socks5://u:p w@h", hop) ==
             hc::proto::UrlError::forbidden_character);
}

BOOST_AUTO_TEST_SUITE_END()
