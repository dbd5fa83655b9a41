// Which chains can BIND at their last hop: refused before anything connects, with the hop named.
#include "chain/bind_at_last_hop.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "proto/proxy_url.hpp"

namespace {

hc::chain::Hops hops_of(const std::vector<std::string>& urls) {
  std::vector<hc::proto::HopSpec> specs;
  for (const auto& url : urls) {
    hc::proto::HopSpec hop;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, hop));
    specs.push_back(hop);
  }
  return *hc::chain::compile_hops(specs, "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bind_at_last_hop)

BOOST_AUTO_TEST_CASE(socks_last_hops_can_bind) {
  for (const char* last : {"socks5://192.0.2.2:1080", "socks5h://192.0.2.2:1080",
                           "socks4://192.0.2.2:1080", "socks4a://192.0.2.2:1080"}) {
    BOOST_TEST(!hc::chain::bind_refusal(hops_of({"http://192.0.2.1:3128", last})), last);
  }
}

BOOST_AUTO_TEST_CASE(http_last_hop_is_refused_by_name) {
  const auto refusal = hc::chain::bind_refusal(
      hops_of({"socks5://192.0.2.1:1080", "http://user:secret@192.0.2.2:3128"}));
  BOOST_REQUIRE(refusal);
  BOOST_TEST(*refusal == "hop 2/2 http://user@192.0.2.2:3128: BIND needs a SOCKS4 or SOCKS5 hop");
  BOOST_TEST(refusal->find("secret") == std::string::npos);  // never the password
}

BOOST_AUTO_TEST_CASE(no_hop_is_refused) {
  const auto refusal = hc::chain::bind_refusal({});
  BOOST_REQUIRE(refusal);
  BOOST_TEST(refusal->find("BIND needs a SOCKS4 or SOCKS5 hop") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
