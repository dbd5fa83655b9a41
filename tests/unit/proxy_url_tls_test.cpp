/// TLS schemes (https, socks*+tls) and their per-hop query parameters in proxy URLs.
#include <ostream>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "proto/proxy_url.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::HopSpec;
using hc::proto::parse_chain_file;
using hc::proto::parse_proxy_url;
using hc::proto::Protocol;
using hc::proto::TlsOptions;
using hc::proto::UrlError;
using hc::test::BadUrlCase;
using hc::test::parse_ok;
using hc::test::UrlCase;

BOOST_AUTO_TEST_SUITE(proxy_url_tls)

BOOST_DATA_TEST_CASE(tls_schemes,
                     bdata::make(std::vector<UrlCase>{
                         {"https://h", "https", Protocol::http, true, "h", 443},
                         {"HTTPS://h:8443/", "https", Protocol::http, true, "h", 8443},
                         {"socks4+tls://h", "socks4+tls", Protocol::socks4, false, "h", 1080},
                         {"socks4a+tls://h", "socks4a+tls", Protocol::socks4, true, "h", 1080},
                         {"socks5+tls://h", "socks5+tls", Protocol::socks5, false, "h", 1080},
                         {"socks5h+tls://h:1443", "socks5h+tls", Protocol::socks5, true, "h", 1443},
                         {"SOCKS5H+TLS://h", "socks5h+tls", Protocol::socks5, true, "h", 1080},
                     }),
                     c) {
  const HopSpec hop = hc::test::expect_parsed(c);
  BOOST_TEST(hop.tls);
  // No parameters: verification on, system store, SNI = host.
  BOOST_TEST((hop.tls_options == TlsOptions{}));
}

BOOST_AUTO_TEST_CASE(plain_schemes_are_not_tls) {
  for (const char* url : {"http://h", "socks4://h", "socks4a://h", "socks5://h", "socks5h://h"}) {
    BOOST_TEST(!parse_ok(url).tls, url);
  }
}

BOOST_AUTO_TEST_CASE(all_parameters) {
  const HopSpec hop = parse_ok(
      "socks5h+tls://alice:pw@proxy.example:1443/"
      "?cafile=/etc/hc/ca.pem&sni=front.example&cert=/etc/hc/me.pem&key=/etc/hc/me.key");
  BOOST_TEST(hop.server.host == "proxy.example");
  BOOST_TEST(hop.server.port == 1443);
  BOOST_TEST(hop.user.value_or("-") == "alice");
  BOOST_TEST(hop.password.value_or("-") == "pw");
  BOOST_TEST(hop.tls_options.cafile == "/etc/hc/ca.pem");
  BOOST_TEST(hop.tls_options.sni == "front.example");
  BOOST_TEST(hop.tls_options.cert == "/etc/hc/me.pem");
  BOOST_TEST(hop.tls_options.key == "/etc/hc/me.key");
  BOOST_TEST(!hop.tls_options.insecure);
}

BOOST_AUTO_TEST_CASE(insecure_values) {
  BOOST_TEST(parse_ok("https://h?insecure=1").tls_options.insecure);
  BOOST_TEST(!parse_ok("https://h?insecure=0").tls_options.insecure);
  BOOST_TEST(parse_ok("https://h?cafile=/ca.pem&insecure=1").tls_options.insecure);
}

BOOST_AUTO_TEST_CASE(early_data_values) {
  BOOST_TEST(parse_ok("socks5h+tls://h?early-data=1").tls_options.early_data);
  BOOST_TEST(!parse_ok("socks5h+tls://h?early-data=0").tls_options.early_data);
  BOOST_TEST(!parse_ok("socks5h+tls://h").tls_options.early_data);
}

BOOST_AUTO_TEST_CASE(query_shapes) {
  // With or without the slash; empty items are skipped; an empty query is no parameter at all.
  BOOST_TEST(parse_ok("https://h?cafile=a").tls_options.cafile == "a");
  BOOST_TEST(parse_ok("https://h/?cafile=a").tls_options.cafile == "a");
  BOOST_TEST(parse_ok("https://h:1?&cafile=a&&sni=b&").tls_options.sni == "b");
  BOOST_TEST((parse_ok("https://h?").tls_options == TlsOptions{}));
  BOOST_TEST((parse_ok("https://h/?").tls_options == TlsOptions{}));
  // The query never bleeds into the host or port.
  const HopSpec v6 = parse_ok("socks5+tls://[::1]:9050?sni=proxy.test");
  BOOST_TEST(v6.server.host == "::1");
  BOOST_TEST(v6.server.port == 9050);
  BOOST_TEST(v6.tls_options.sni == "proxy.test");
  // Order does not matter.
  BOOST_TEST(parse_ok("https://h?key=k&cert=c").tls_options.cert == "c");
}

BOOST_AUTO_TEST_CASE(values_percent_decoded) {
  const HopSpec hop = parse_ok("https://h?cafile=/my%20certs/ca%26b%3D1%23.pem&sni=x");
  BOOST_TEST(hop.tls_options.cafile == "/my certs/ca&b=1#.pem");
  // '+' is not a space outside HTML forms.
  BOOST_TEST(parse_ok("https://h?cafile=/a+b").tls_options.cafile == "/a+b");
  // File names may be longer than the 255-byte field limit.
  const std::string long_path = "/" + std::string(4000, 'p');
  BOOST_TEST(parse_ok("https://h?cafile=" + long_path).tls_options.cafile == long_path);
}

BOOST_AUTO_TEST_CASE(sni_forms) {
  BOOST_TEST(parse_ok("https://10.0.0.1?sni=proxy.example").tls_options.sni == "proxy.example");
  BOOST_TEST(parse_ok("https://h?sni=10.0.0.1").tls_options.sni == "10.0.0.1");
  BOOST_TEST(parse_ok("https://h?sni=2001:db8::1").tls_options.sni == "2001:db8::1");
  BOOST_TEST(parse_ok("https://h?sni=" + std::string(255, 'a')).tls_options.sni.size() == 255u);
}

BOOST_AUTO_TEST_CASE(redacted_leaves_out_the_query) {
  BOOST_TEST(parse_ok("https://u:pw@h?cafile=/ca.pem&insecure=1").redacted() == "https://u@h:443");
  BOOST_TEST(parse_ok("socks5h+tls://[::1]?sni=x").redacted() == "socks5h+tls://[::1]:1080");
}

BOOST_DATA_TEST_CASE(rejected,
                     bdata::make(std::vector<BadUrlCase>{
                         // parameters are TLS settings
                         {"http://h?cafile=/ca.pem", UrlError::query_without_tls},
                         {"socks5h://h?insecure=1", UrlError::query_without_tls},
                         {"socks5h://h?early-data=1", UrlError::query_without_tls},
                         {"socks4://h/?sni=x", UrlError::query_without_tls},
                         // unknown names, case-sensitive
                         {"https://h?foo=1", UrlError::unknown_parameter},
                         {"https://h?CAFILE=/ca.pem", UrlError::unknown_parameter},
                         {"https://h?cafile=/a&verify=0", UrlError::unknown_parameter},
                         {"https://h?=x", UrlError::unknown_parameter},
                         {"https://h?ca%66ile=x", UrlError::unknown_parameter},
                         // values
                         {"https://h?cafile", UrlError::bad_parameter_value},
                         {"https://h?cafile=", UrlError::bad_parameter_value},
                         {"https://h?insecure", UrlError::bad_parameter_value},
                         {"https://h?early-data=yes", UrlError::bad_parameter_value},
                         {"https://h?insecure=yes", UrlError::bad_parameter_value},
                         {"https://h?insecure=2", UrlError::bad_parameter_value},
                         {"https://h?insecure=", UrlError::bad_parameter_value},
                         {"https://h?sni=a%2Fb", UrlError::bad_parameter_value},
                         {"https://h?sni=a%20b", UrlError::bad_parameter_value},
                         {"https://h?sni=" + std::string(256, 'a'), UrlError::bad_parameter_value},
                         {"https://h?cafile=a&cafile=b", UrlError::duplicate_parameter},
                         {"https://h?insecure=0&insecure=1", UrlError::duplicate_parameter},
                         {"https://h?cafile=/" + std::string(4096, 'p'), UrlError::field_too_long},
                         {"https://h?cafile=%zz", UrlError::bad_percent_encoding},
                         {"https://h?cafile=a%", UrlError::bad_percent_encoding},
                         {"https://h?cafile=/a%0Ab", UrlError::forbidden_character},
                         {"https://h?cafile=/a%00b", UrlError::forbidden_character},
                         {"https://h?cafile=/a b", UrlError::forbidden_character},
                         // client certificate needs both halves
                         {"https://h?cert=/me.pem", UrlError::cert_without_key},
                         {"socks5+tls://h?key=/me.key", UrlError::cert_without_key},
                         // no path and no fragment, with or without a query
                         {"https://h/x?cafile=a", UrlError::unexpected_path},
                         {"https://h//?cafile=a", UrlError::unexpected_path},
                         {"https://h?cafile=a#frag", UrlError::unexpected_path},
                         {"https://h#frag", UrlError::unexpected_path},
                         // the authority is still checked first
                         {"https://?cafile=a", UrlError::missing_host},
                         {"https://h:0?cafile=a", UrlError::bad_port},
                     }),
                     c) {
  hc::test::expect_rejected(c);
}

BOOST_AUTO_TEST_CASE(chain_file_with_tls_hops) {
  const auto result = parse_chain_file(
      "# TLS first, then plain, then TLS in TLS\n"
      "socks5h+tls://a.example?cafile=/ca-a.pem   # behind stunnel\n"
      "socks5h://b.example:1080\n"
      "https://c.example?sni=front.example&insecure=1\n");
  BOOST_TEST_REQUIRE(!result.ec, result.ec.message());
  BOOST_TEST_REQUIRE(result.hops.size() == 3u);
  BOOST_TEST(result.hops[0].tls);
  BOOST_TEST(result.hops[0].tls_options.cafile == "/ca-a.pem");
  BOOST_TEST(!result.hops[1].tls);
  BOOST_TEST(result.hops[2].tls);
  BOOST_TEST(result.hops[2].tls_options.sni == "front.example");
  BOOST_TEST(result.hops[2].tls_options.insecure);

  const auto bad = parse_chain_file("https://a\nhttps://b?bogus=1\n");
  BOOST_TEST((bad.ec == make_error_code(UrlError::unknown_parameter)));
  BOOST_TEST(bad.error_line == 2u);
  BOOST_TEST(bad.hops.empty());
}

BOOST_AUTO_TEST_CASE(error_messages_name_the_parameters) {
  BOOST_TEST(make_error_code(UrlError::unknown_parameter).message().find("cafile, sni") !=
             std::string::npos);
  BOOST_TEST(make_error_code(UrlError::unknown_scheme).message().find("https") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
