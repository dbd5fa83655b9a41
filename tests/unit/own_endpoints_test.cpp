#include "transport/own_endpoints.hpp"

#include <boost/test/unit_test.hpp>

using hc::tcp;
using hc::transport::OwnEndpoints;

namespace {

tcp::endpoint ep(const char* address, std::uint16_t port) {
  return {asio::ip::make_address(address), port};
}

/// A host with one interface address, counting how often it was asked.
struct Host {
  int asked = 0;
  std::vector<asio::ip::address> operator()() {
    ++asked;
    return {asio::ip::make_address("192.0.2.7"), asio::ip::make_address("2001:db8::7")};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(own_endpoints)

BOOST_AUTO_TEST_CASE(a_listener_on_one_address_matches_that_address_only) {
  OwnEndpoints own;
  own.add(ep("127.0.0.1", 1080));
  Host host;
  auto ask = [&] { return host(); };
  BOOST_TEST(own.reaches(ep("127.0.0.1", 1080), ask));
  BOOST_TEST(own.reaches(ep("::ffff:127.0.0.1", 1080), ask));  // v4-mapped is the same address
  BOOST_TEST(!own.reaches(ep("127.0.0.2", 1080), ask));
  BOOST_TEST(!own.reaches(ep("::1", 1080), ask));
  BOOST_TEST(!own.reaches(ep("127.0.0.1", 1081), ask));
  BOOST_TEST(host.asked == 0);
}

BOOST_AUTO_TEST_CASE(a_wildcard_listener_matches_loopback_and_the_hosts_addresses) {
  OwnEndpoints own;
  own.add(ep("::", 8080));
  Host host;
  auto ask = [&] { return host(); };
  BOOST_TEST(own.reaches(ep("127.0.0.1", 8080), ask));
  BOOST_TEST(own.reaches(ep("127.9.9.9", 8080), ask));
  BOOST_TEST(own.reaches(ep("::1", 8080), ask));
  BOOST_TEST(own.reaches(ep("0.0.0.0", 8080), ask));
  BOOST_TEST(host.asked == 0);  // loopback needs no interface list
  BOOST_TEST(own.reaches(ep("192.0.2.7", 8080), ask));
  BOOST_TEST(own.reaches(ep("2001:db8::7", 8080), ask));
  BOOST_TEST(!own.reaches(ep("192.0.2.8", 8080), ask));
  BOOST_TEST(!own.reaches(ep("127.0.0.1", 8081), ask));
  BOOST_TEST(host.asked == 3);
}

BOOST_AUTO_TEST_CASE(nothing_registered_matches_nothing) {
  OwnEndpoints own;
  BOOST_TEST(own.empty());
  BOOST_TEST(!own.reaches(ep("127.0.0.1", 1080), [] { return std::vector<asio::ip::address>{}; }));
}

BOOST_AUTO_TEST_CASE(literal_addresses_need_no_lookup) {
  using hc::transport::literal_addresses;
  BOOST_TEST(literal_addresses("localhost").size() == 2u);
  BOOST_TEST(literal_addresses("127.0.0.1").size() == 1u);
  BOOST_TEST(literal_addresses("::1").size() == 1u);
  BOOST_TEST(literal_addresses("example.com").empty());
}

BOOST_AUTO_TEST_SUITE_END()
