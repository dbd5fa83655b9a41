// Who may use a UDP relay: the eviction policy of `udp` mode's sources, and the SOCKS server's
// rule for the senders of a UDP ASSOCIATE (by where the client is, the port it named, --users
// and --udp-any-port).
#include <chrono>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "app/socks_udp.hpp"
#include "udp/udp_relay.hpp"

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(udp_policy)

BOOST_AUTO_TEST_CASE(eviction_takes_the_source_idle_the_longest) {
  using hc::udp::source_to_evict;
  const Clock::time_point t0{};
  const std::vector<Clock::time_point> last = {t0 + 5s, t0 + 1s, t0 + 9s, t0 + 1s};
  BOOST_TEST(!source_to_evict(last, 5).has_value());   // room left
  BOOST_TEST(source_to_evict(last, 4).value() == 1u);  // the idlest; among equals the first
  BOOST_TEST(source_to_evict(last, 2).value() == 1u);  // over the limit: still one at a time
  BOOST_TEST(!source_to_evict({}, 1).has_value());
  const std::vector<Clock::time_point> one = {t0};
  BOOST_TEST(source_to_evict(one, 1).value() == 0u);
  // A source just heard from is never the one evicted while an older one is there.
  std::vector<Clock::time_point> many;
  for (int i = 0; i < 300; ++i) {
    many.push_back(t0 + std::chrono::milliseconds(i + 10));
  }
  many[150] = t0;  // the real source, quiet for a while
  BOOST_TEST(source_to_evict(many, 256).value() == 150u);
  many[150] = t0 + 1h;  // ... and just active again
  BOOST_TEST(source_to_evict(many, 256).value() == 0u);
}

BOOST_AUTO_TEST_CASE(sender_rule_by_where_the_client_is) {
  using hc::app::udp_sender_rule;
  using hc::app::UdpSenderRule;
  const auto ip = [](const char* text) { return asio::ip::make_address(text); };
  // On this host: the owner's uid decides, whatever the port and options.
  BOOST_TEST(
      (udp_sender_rule(ip("127.0.0.1"), ip("127.0.0.1"), 0, true, false) == UdpSenderRule::owner));
  BOOST_TEST((udp_sender_rule(ip("127.0.0.9"), ip("127.0.0.1"), 5000, false, false) ==
              UdpSenderRule::owner));
  BOOST_TEST((udp_sender_rule(ip("::1"), ip("::1"), 0, false, true) == UdpSenderRule::owner));
  BOOST_TEST((udp_sender_rule(ip("192.0.2.7"), ip("192.0.2.7"), 0, true, false) ==
              UdpSenderRule::owner));  // came from the address it reached: this host
  // Remote: DST.PORT 0 on a --users server is refused unless --udp-any-port.
  BOOST_TEST(
      (udp_sender_rule(ip("192.0.2.7"), ip("192.0.2.1"), 0, true, false) == UdpSenderRule::refuse));
  BOOST_TEST((udp_sender_rule(ip("2001:db8::7"), ip("2001:db8::1"), 0, true, false) ==
              UdpSenderRule::refuse));
  BOOST_TEST(
      (udp_sender_rule(ip("192.0.2.7"), ip("192.0.2.1"), 0, true, true) == UdpSenderRule::address));
  BOOST_TEST((udp_sender_rule(ip("192.0.2.7"), ip("192.0.2.1"), 5000, true, false) ==
              UdpSenderRule::address));
  BOOST_TEST((udp_sender_rule(ip("192.0.2.7"), ip("192.0.2.1"), 0, false, false) ==
              UdpSenderRule::address));  // an open server: anyone may use it anyway
}

BOOST_AUTO_TEST_SUITE_END()
