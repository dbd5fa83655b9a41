/// Credentials file parsing, password resolution (file, then HOPCHAIN_PASSWORD) and the named
/// chain syntax (strategy / chain-len lines).
#include "app/credentials.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

hc::proto::HopSpec hop(const std::string& url) {
  hc::proto::HopSpec h;
  BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, h));
  return h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(credentials)

BOOST_AUTO_TEST_CASE(config_dir_prefers_absolute_xdg) {
  BOOST_TEST(hc::app::config_dir("/x", "/home/u") == "/x/hopchain");
  BOOST_TEST(hc::app::config_dir("relative", "/home/u") == "/home/u/.config/hopchain");
  BOOST_TEST(hc::app::config_dir(nullptr, nullptr).empty());
}

BOOST_AUTO_TEST_CASE(parses_netrc_style_entries) {
  const auto parsed = hc::app::parse_credentials(
      "# comment\nmachine a port 1080 login u password p1\nmachine b\n  login v password p2\n"
      "  # x\n");
  BOOST_REQUIRE(parsed.has_value());
  const auto& e = *parsed;
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(*e[0].port == 1080);
  BOOST_TEST(e[1].machine == "b");
  BOOST_TEST(!e[1].port);
  BOOST_TEST(e[1].password == "p2");
}

BOOST_AUTO_TEST_CASE(bad_entries_are_reported_without_passwords) {
  auto error = hc::app::parse_credentials("machine a login u password sekrit bogus 1\n").error();
  BOOST_TEST(error.find("line 1") != std::string::npos);
  BOOST_TEST(error.find("sekrit") == std::string::npos);
  const auto parsed = hc::app::parse_credentials("machine a password sekrit\n");
  BOOST_REQUIRE(!parsed.has_value());
  BOOST_TEST(parsed.error().find("sekrit") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_then_environment_then_error) {
  const auto parsed = hc::app::parse_credentials(
      "machine a port 1080 login u password fromfile\n"
      "machine a port 9 login u password wrongport\n");
  BOOST_REQUIRE(parsed.has_value());
  const std::vector<hc::app::CredentialEntry>& entries = *parsed;
  std::vector<hc::proto::HopSpec> hops{hop("socks5h://u@a:1080"), hop("http://u@b:3128"),
                                       hop("socks4://id@c"), hop("socks5://w:given@d")};
  hc::app::fill_from_credentials(hops, entries);
  hc::app::fill_from_environment(hops, "fromenv");
  BOOST_TEST(hc::app::missing_password(hops, "/c", "/n").empty());
  BOOST_TEST(*hops[0].password == "fromfile");
  BOOST_TEST(*hops[1].password == "fromenv");
  BOOST_TEST(!hops[2].password);  // a socks4 user id needs no password
  BOOST_TEST(*hops[3].password == "given");

  std::vector<hc::proto::HopSpec> lone{hop("socks5h://u@z:1080")};
  hc::app::fill_from_credentials(lone, entries);
  hc::app::fill_from_environment(lone, nullptr);
  const auto error = hc::app::missing_password(lone, "/c/credentials", "/home/u/.netrc");
  BOOST_TEST(error.find("hop 1 socks5h://u@z:1080") != std::string::npos);
  BOOST_TEST(error.find("/c/credentials") != std::string::npos);
  BOOST_TEST(error.find("'machine z login u password ...' to /home/u/.netrc") != std::string::npos,
             error);
  BOOST_TEST(error.find("HOPCHAIN_PASSWORD") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chain_file_directives) {
  const auto f = hc::app::parse_chain_text(
      "strategy random\nchain-len 2 # two\nsocks5h://a:1080\n\nhttp://b:3128\n");
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->hops.size() == 2u);
  BOOST_TEST((*f->strategy == hc::chain::Strategy::random));
  BOOST_TEST(*f->chain_len == 2u);
  const auto sideways = hc::app::parse_chain_text("socks5h://a\nstrategy sideways\n");
  BOOST_TEST(sideways.error().rfind("2:", 0) == 0);
  const auto not_url = hc::app::parse_chain_text("strategy dynamic\nnot a url\n");
  BOOST_TEST(not_url.error().rfind("2: bad proxy URL", 0) == 0);
  BOOST_TEST(!hc::app::parse_chain_text("chain-len 0\n").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
