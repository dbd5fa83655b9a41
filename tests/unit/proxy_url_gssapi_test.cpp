/// GSS-API (RFC 1961) settings in SOCKS5 proxy URLs: auth=gssapi, service, protection, require.
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "proto/proxy_url.hpp"
#include "support/codec_driver.hpp"

namespace bdata = boost::unit_test::data;
using hc::proto::GssapiOptions;
using hc::proto::HopSpec;
using hc::proto::parse_chain_file;
using hc::proto::Protection;
using hc::proto::UrlError;
using hc::test::BadUrlCase;
using hc::test::parse_ok;

BOOST_AUTO_TEST_SUITE(proxy_url_gssapi)

BOOST_AUTO_TEST_CASE(defaults) {
  const HopSpec hop = parse_ok("socks5h://proxy.example?auth=gssapi");
  BOOST_TEST(hop.gssapi.enabled);
  BOOST_TEST(hop.gssapi.service == "rcmd");
  BOOST_TEST((hop.gssapi.protection == Protection::confidentiality));
  BOOST_TEST((hop.gssapi.require == Protection::none));
  BOOST_TEST(!parse_ok("socks5h://proxy.example").gssapi.enabled);
  BOOST_TEST((parse_ok("socks5://h").gssapi == GssapiOptions{}));
}

BOOST_AUTO_TEST_CASE(every_setting_on_every_socks5_scheme) {
  for (const std::string scheme : {"socks5", "socks5h", "socks5+tls", "socks5h+tls"}) {
    const HopSpec hop = parse_ok(scheme +
                                 "://proxy.example:1081/?require=integrity&auth=gssapi&service="
                                 "socks&protection=integrity");
    BOOST_TEST(hop.gssapi.enabled, scheme);
    BOOST_TEST(hop.gssapi.service == "socks");
    BOOST_TEST((hop.gssapi.protection == Protection::integrity));
    BOOST_TEST((hop.gssapi.require == Protection::integrity));
    BOOST_TEST(hop.server.port == 1081);
  }
  const HopSpec both = parse_ok("socks5h+tls://h?cafile=/ca.pem&auth=gssapi&require=none");
  BOOST_TEST(both.tls_options.cafile == "/ca.pem");
  BOOST_TEST(both.gssapi.enabled);
  // Never in the redacted URL's way: no secret in it anyway.
  BOOST_TEST(both.redacted() == "socks5h+tls://h:1080");
}

BOOST_DATA_TEST_CASE(
    refused,
    bdata::make(std::vector<BadUrlCase>{
        {"socks4://h?auth=gssapi", UrlError::gssapi_not_socks5},
        {"socks4a+tls://h?auth=gssapi", UrlError::gssapi_not_socks5},
        {"http://h?auth=gssapi", UrlError::gssapi_not_socks5},
        {"https://h?auth=gssapi", UrlError::gssapi_not_socks5},
        {"socks5://u:p@h?auth=gssapi", UrlError::gssapi_with_userinfo},
        {"socks5://u@h?auth=gssapi", UrlError::gssapi_with_userinfo},
        {"socks5://h?service=rcmd", UrlError::gssapi_setting_without_auth},
        {"socks5://h?protection=integrity", UrlError::gssapi_setting_without_auth},
        {"socks5://u:p@h?require=none", UrlError::gssapi_setting_without_auth},
        {"socks5://h?auth=kerberos", UrlError::bad_parameter_value},
        {"socks5://h?auth=GSSAPI", UrlError::bad_parameter_value},
        {"socks5://h?auth=", UrlError::bad_parameter_value},
        {"socks5://h?auth", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&protection=none", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&protection=privacy", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&require=selective", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&service=rcmd/host", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&service=a%40b", UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&service=" + std::string(256, 's'), UrlError::bad_parameter_value},
        {"socks5://h?auth=gssapi&auth=gssapi", UrlError::duplicate_parameter},
        {"socks5://h?auth=gssapi&service=a&service=a", UrlError::duplicate_parameter},
        {"socks5://h?auth=gssapi&protection=integrity&require=confidentiality",
         UrlError::require_above_protection},
        {"socks5://h?auth=gssapi&Service=rcmd", UrlError::unknown_parameter},
        {"socks5://h?auth=gssapi&mech=krb5", UrlError::unknown_parameter},
        {"socks5://h?auth=gssapi&cafile=/ca.pem", UrlError::query_without_tls},
    }),
    c) {
  hc::test::expect_rejected(c);
}

BOOST_AUTO_TEST_CASE(messages_name_the_fix) {
  HopSpec hop;
  const auto ec = hc::proto::parse_proxy_url("socks5://h?service=x", hop);
  BOOST_TEST(ec.message().find("add auth=gssapi") != std::string::npos, ec.message());
  const auto twice = hc::proto::parse_proxy_url("socks5://h?auth=gssapi&auth=gssapi", hop);
  BOOST_TEST(twice.message() == "query parameter given twice");
  const auto unknown = hc::proto::parse_proxy_url("socks5://h?mech=x", hop);
  BOOST_TEST(unknown.message().find("auth, service, protection or require") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chain_file_with_a_gssapi_hop) {
  const auto result = parse_chain_file(
      "socks5h://a.example:1080\n"
      "socks5h://kdc-land.example?auth=gssapi&protection=integrity  # Kerberised Dante\n");
  BOOST_TEST_REQUIRE(!result.ec, result.ec.message());
  BOOST_TEST_REQUIRE(result.hops.size() == 2U);
  BOOST_TEST(!result.hops[0].gssapi.enabled);
  BOOST_TEST(result.hops[1].gssapi.enabled);
  BOOST_TEST((result.hops[1].gssapi.protection == Protection::integrity));
}

BOOST_AUTO_TEST_SUITE_END()
