/// The netrc parser as curl reads the format, its password lookup, and service-name ports.
#include "app/netrc.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "app/endpoint_syntax.hpp"
#include "app/service_port.hpp"
#include "proto/errors.hpp"

namespace {

std::vector<hc::app::NetrcEntry> parse_ok(const std::string& text) {
  auto entries = hc::app::parse_netrc(text);
  BOOST_TEST_REQUIRE(entries.has_value(), (entries ? std::string() : entries.error()));
  return std::move(*entries);
}

/// The error of a result, empty for a value.
template <class T>
std::string error_of(const hc::Result<T>& result) {
  return result ? std::string() : result.error();
}

std::string password(const std::vector<hc::app::NetrcEntry>& e, const char* host,
                     const char* user) {
  const std::string* found = hc::app::netrc_password(e, host, user);
  return found == nullptr ? "<none>" : *found;
}

/// A fixed /etc/services: the tests do not depend on the machine's.
std::uint16_t fake_services(std::string_view name) {
  return name == "socks" ? 1080 : name == "http-alt" ? 8080 : name == "domain" ? 53 : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(netrc)

BOOST_AUTO_TEST_CASE(machines_default_and_first_match) {
  const auto e = parse_ok(
      "machine proxy.example login alice password first\n"
      "machine proxy.example login alice password second\n"
      "machine PROXY.example\n  login bob\n  password b-pw account acct\n"
      "default login alice password fallback\n");
  BOOST_REQUIRE(e.size() == 4u);
  BOOST_TEST(password(e, "proxy.example", "alice") == "first");  // the first match wins
  BOOST_TEST(password(e, "Proxy.Example", "bob") == "b-pw");     // host case does not matter
  BOOST_TEST(password(e, "other.example", "alice") == "fallback");
  BOOST_TEST(password(e, "other.example", "bob") == "<none>");    // the login must match
  BOOST_TEST(password(e, "proxy.example", "Alice") == "<none>");  // logins are exact
}

BOOST_AUTO_TEST_CASE(default_only_when_no_machine_serves) {
  // `default` first in the file still loses to a machine entry, as in ftp.
  const auto e = parse_ok("default login u password any\nmachine h login u password exact\n");
  BOOST_TEST(password(e, "h", "u") == "exact");
  BOOST_TEST(password(e, "x", "u") == "any");
}

BOOST_AUTO_TEST_CASE(entries_without_password_or_login_serve_nobody) {
  const auto e = parse_ok(
      "machine h login u\nmachine h password nologin\n"
      "machine h login u password late\n");
  BOOST_TEST(password(e, "h", "u") == "late");
}

BOOST_AUTO_TEST_CASE(macdef_is_skipped_to_the_empty_line) {
  const auto e = parse_ok(
      "machine h login u password p\n"
      "macdef init\ncd /pub\nmachine h login u password in-macro\n\n"
      "machine h2 login u password after\n");
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(password(e, "h", "u") == "p");
  BOOST_TEST(password(e, "h2", "u") == "after");
}

BOOST_AUTO_TEST_CASE(comments_and_quotes) {
  const auto e = parse_ok(
      "# a comment\nmachine h login u password \"with space\" # trailing\n"
      "machine q login \"u\" password \"a\\\"b\\\\c\\td\"\n"
      "machine hash login u password \"#not-a-comment\"\r\n");
  BOOST_REQUIRE(e.size() == 3u);
  BOOST_TEST(password(e, "h", "u") == "with space");
  BOOST_TEST(password(e, "q", "u") == "a\"b\\c\td");
  BOOST_TEST(password(e, "hash", "u") == "#not-a-comment");
}

BOOST_AUTO_TEST_CASE(errors_name_the_line_not_the_token) {
  auto error = error_of(hc::app::parse_netrc("machine h login u\npassword \"sekrit\n"));
  BOOST_TEST(error.find("line 2") != std::string::npos, error);
  BOOST_TEST(error.find("sekrit") == std::string::npos);
  error = error_of(hc::app::parse_netrc("machine h login u sekrit\n"));
  BOOST_TEST(error.find("line 1") != std::string::npos, error);
  BOOST_TEST(error.find("sekrit") == std::string::npos);
  error = error_of(hc::app::parse_netrc("login u password p\n"));
  BOOST_TEST(error.find("before any 'machine'") != std::string::npos, error);
  error = error_of(hc::app::parse_netrc("machine h login u\n\npassword\n"));
  BOOST_TEST(error.find("line 3: 'password' without a value") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(fills_only_hops_that_name_their_user) {
  const auto e = parse_ok("machine a login u password pa\ndefault login u password pd\n");
  std::vector<hc::proto::HopSpec> hops(4);
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks5h://u@a:1080", hops[0]));
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("http://b:3128", hops[1]));  // no user: left alone
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks5://u:given@a", hops[2]));
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("http://u@b:3128", hops[3]));
  hc::app::fill_from_netrc(hops, e);
  BOOST_TEST(*hops[0].password == "pa");
  BOOST_TEST(!hops[1].password);
  BOOST_TEST(!hops[1].user);
  BOOST_TEST(*hops[2].password == "given");
  BOOST_TEST(*hops[3].password == "pd");
}

BOOST_AUTO_TEST_CASE(too_open_modes) {
  BOOST_TEST(!hc::app::netrc_too_open(0100600));
  BOOST_TEST(!hc::app::netrc_too_open(0100400));
  BOOST_TEST(hc::app::netrc_too_open(0100644));
  BOOST_TEST(hc::app::netrc_too_open(0100620));
  BOOST_TEST(hc::app::netrc_too_open(0100602));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_ports)

BOOST_AUTO_TEST_CASE(names_resolve_through_the_lookup) {
  BOOST_TEST(*hc::app::parse_port("socks", fake_services) == 1080);
  BOOST_TEST(*hc::app::parse_port("22", fake_services) == 22);
  BOOST_TEST(error_of(hc::app::parse_port("htp", fake_services)) ==
             "unknown service name 'htp' (not in /etc/services)");
  for (const char* bad : {"0", "65536", "", "-1", "1e3", "8080x", "a b"}) {
    BOOST_TEST(error_of(hc::app::parse_port(bad, fake_services)).find("bad port") == 0u, bad);
  }
}

BOOST_AUTO_TEST_CASE(specs_take_names) {
  const auto spec = hc::app::parse_forward_spec("http-alt:intranet:socks", fake_services);
  BOOST_REQUIRE(spec.has_value());
  BOOST_TEST(spec->listen.port == 8080);
  BOOST_TEST(spec->target.port == 1080);
  const auto error = error_of(hc::app::parse_forward_spec("8080:h:htp", fake_services));
  BOOST_TEST(error.find("unknown service name 'htp'") != std::string::npos, error);
  const auto at = hc::app::parse_listen_spec("[::1]:socks", fake_services);
  BOOST_REQUIRE(at.has_value());
  BOOST_TEST(at->port == 1080);
  BOOST_TEST(at->host == "::1");
  const auto named = hc::app::parse_host_port("h", "domain", fake_services);
  BOOST_REQUIRE(named.has_value());
  BOOST_TEST(named->port == 53);
}

BOOST_AUTO_TEST_CASE(urls_take_names_only_with_a_lookup) {
  hc::proto::HopSpec hop;
  BOOST_TEST(!hc::proto::parse_proxy_url("socks5h://u:p@h:socks", hop, fake_services));
  BOOST_TEST(hop.server.port == 1080);
  BOOST_TEST(hc::proto::parse_proxy_url("socks5h://h:htp", hop, fake_services) ==
             make_error_code(hc::proto::UrlError::unknown_service));
  BOOST_TEST(hc::proto::parse_proxy_url("socks5h://h:socks", hop) ==
             make_error_code(hc::proto::UrlError::bad_port));
  BOOST_TEST(hc::proto::parse_proxy_url("socks5h://h:0", hop, fake_services) ==
             make_error_code(hc::proto::UrlError::bad_port));
  const auto file = hc::proto::parse_chain_file("# c\nhttp://h:http-alt\n", fake_services);
  BOOST_REQUIRE(file.hops.size() == 1u);
  BOOST_TEST(file.hops[0].server.port == 8080);
}

BOOST_AUTO_TEST_CASE(system_lookup) {
  // Every /etc/services has ssh; a name no system has is 0.
  BOOST_TEST(hc::app::tcp_service_port("ssh") == 22);
  BOOST_TEST(hc::app::udp_service_port("domain") == 53);
  BOOST_TEST(hc::app::tcp_service_port("no-such-service-hc") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
