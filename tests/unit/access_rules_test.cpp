// The local SOCKS server's target rules: CIDR parsing and matching, which addresses and names
// are this host's own, and the order of --allow/--deny rules and the default.
#include "app/access_rules.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using hc::app::AccessPolicy;
using hc::app::AccessRule;
using hc::app::Cidr;
using hc::app::parse_cidr;

namespace {

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

Cidr cidr(const char* text) {
  const auto c = parse_cidr(text);
  BOOST_TEST_REQUIRE(c.has_value(), text << ": " << (c ? std::string() : c.error()));
  return *c;
}

AccessRule rule(bool allow, const char* text) {
  return AccessRule{allow, cidr(text)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(access_rules)

BOOST_AUTO_TEST_CASE(cidr_parsing) {
  BOOST_TEST(cidr("10.1.2.3/8").to_string() == "10.0.0.0/8");
  BOOST_TEST(cidr("192.0.2.7").to_string() == "192.0.2.7/32");
  BOOST_TEST(cidr("fe80::1/10").to_string() == "fe80::/10");
  BOOST_TEST(cidr("[2001:db8::]/32").to_string() == "2001:db8::/32");
  BOOST_TEST(cidr("::1").to_string() == "::1/128");
  BOOST_TEST(cidr("0.0.0.0/0").to_string() == "0.0.0.0/0");
  BOOST_TEST(cidr("10.255.255.255/9").to_string() == "10.128.0.0/9");
  // IPv4-mapped blocks become IPv4 blocks.
  BOOST_TEST(cidr("::ffff:10.0.0.0/104").to_string() == "10.0.0.0/8");
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/x", "example.org/8",
        "10.0.0.0/8/8", "::ffff:10.0.0.0/64", "fe80::1%1", "10.0.0.0/-1", "10.0.0.0/ 8"}) {
    BOOST_TEST(!parse_cidr(bad).has_value(), bad);
  }
  BOOST_TEST(parse_cidr("10.0.0.0/40").error().find("10.0.0.0/40") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cidr_matching) {
  BOOST_TEST(cidr("10.0.0.0/8").contains(ip("10.200.1.1")));
  BOOST_TEST(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
  BOOST_TEST(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.1.1")));  // mapped matches IPv4
  BOOST_TEST(!cidr("10.0.0.0/8").contains(ip("::a00:1")));
  BOOST_TEST(cidr("10.128.0.0/9").contains(ip("10.255.0.1")));
  BOOST_TEST(!cidr("10.128.0.0/9").contains(ip("10.127.0.1")));
  BOOST_TEST(cidr("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
  BOOST_TEST(!cidr("2001:db8::/32").contains(ip("2001:db9::1")));
  BOOST_TEST(!cidr("2001:db8::/32").contains(ip("10.0.0.1")));
  BOOST_TEST(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
  BOOST_TEST(!cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
  BOOST_TEST(cidr("::/0").contains(ip("2001:db8::1")));
  BOOST_TEST(cidr("192.0.2.7").contains(ip("192.0.2.7")));
  BOOST_TEST(!cidr("192.0.2.7").contains(ip("192.0.2.8")));
}

BOOST_AUTO_TEST_CASE(local_addresses) {
  using hc::app::local_kind;
  for (const char* local : {"127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "169.254.169.254",
                            "::1", "::", "::ffff:127.0.0.1", "::ffff:169.254.1.1", "::ffff:0.0.0.0",
                            "::127.0.0.1", "fe80::1", "febf:ffff::1"}) {
    BOOST_TEST(local_kind(ip(local)).has_value(), local);
  }
  for (const char* remote :
       {"10.0.0.1", "192.168.1.1", "8.8.8.8", "128.0.0.1", "169.255.0.1", "2001:db8::1", "fec0::1",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "fc00::1"}) {
    BOOST_TEST(!local_kind(ip(remote)).has_value(), remote);
  }
  BOOST_TEST(*local_kind(ip("127.0.0.1")) == "a loopback address");
  BOOST_TEST(*local_kind(ip("fe80::1")) == "a link-local address");
}

BOOST_AUTO_TEST_CASE(localhost_names) {
  using hc::app::is_localhost_name;
  for (const char* name :
       {"localhost", "LOCALHOST", "localhost.", "a.localhost", "x.y.LocalHost."}) {
    BOOST_TEST(is_localhost_name(name), name);
  }
  for (const char* name : {"", "localhost.example", "mylocalhost", "localhos", "local", "."}) {
    BOOST_TEST(!is_localhost_name(name), name);
  }
}

BOOST_AUTO_TEST_CASE(literals_include_legacy_ipv4_forms) {
  using hc::app::literal_address;
  BOOST_TEST((literal_address("127.0.0.1") == ip("127.0.0.1")));
  BOOST_TEST((literal_address("[::1]") == ip("::1")));
  BOOST_TEST((literal_address("::ffff:127.0.0.1") == ip("::ffff:127.0.0.1")));
  BOOST_TEST((literal_address("127.1") == ip("127.0.0.1")));
  BOOST_TEST((literal_address("0x7f000001") == ip("127.0.0.1")));
  BOOST_TEST((literal_address("2130706433") == ip("127.0.0.1")));
  BOOST_TEST(!literal_address("example.org"));
  BOOST_TEST(!literal_address("localhost"));
  BOOST_TEST(!literal_address("cafe"));  // a name made of hex letters
  BOOST_TEST(!literal_address("deadbeef.example"));
}

BOOST_AUTO_TEST_CASE(default_refuses_local_only_when_exposed) {
  AccessPolicy loopback_server;
  BOOST_TEST(!loopback_server.active());
  BOOST_TEST(loopback_server.decide(ip("127.0.0.1")).allowed);
  BOOST_TEST(loopback_server.decide_host("localhost")->allowed);

  AccessPolicy exposed;
  exposed.refuse_local = true;
  BOOST_TEST(exposed.active());
  for (const char* host :
       {"127.0.0.1", "127.8.9.10", "::1", "[::1]", "0.0.0.0", "::", "::ffff:127.0.0.1",
        "169.254.169.254", "fe80::1", "localhost", "db.localhost", "127.1"}) {
    const auto d = exposed.decide_host(host);
    BOOST_TEST_REQUIRE(d.has_value(), host);
    BOOST_TEST(!d->allowed, host);
    BOOST_TEST(d->reason.find("--allow-local") != std::string::npos, host);
  }
  BOOST_TEST(exposed.decide_host("10.0.0.1")->allowed);
  BOOST_TEST(!exposed.decide_host("example.org").has_value());  // undecided until resolved
}

BOOST_AUTO_TEST_CASE(first_matching_rule_wins_then_the_default) {
  AccessPolicy p;
  p.refuse_local = true;
  p.rules = {rule(true, "127.0.0.5"), rule(false, "10.1.0.0/16"), rule(true, "10.0.0.0/8"),
             rule(false, "10.0.0.0/8"), rule(false, "2001:db8::/32")};
  BOOST_TEST(p.decide(ip("127.0.0.5")).allowed);  // an --allow beats the local default
  BOOST_TEST(p.decide(ip("127.0.0.5")).reason == "--allow 127.0.0.5/32");
  BOOST_TEST(!p.decide(ip("127.0.0.6")).allowed);  // the default
  BOOST_TEST(!p.decide(ip("10.1.2.3")).allowed);   // the earlier, narrower deny
  BOOST_TEST(p.decide(ip("10.1.2.3")).reason == "--deny 10.1.0.0/16");
  BOOST_TEST(p.decide(ip("10.2.0.1")).allowed);  // allow before the later deny
  BOOST_TEST(p.decide(ip("::ffff:10.2.0.1")).allowed);
  BOOST_TEST(!p.decide(ip("2001:db8::1")).allowed);
  BOOST_TEST(p.decide(ip("192.0.2.1")).allowed);  // nothing matches: the default allows

  // "Deny everything but": the last rule catches the rest.
  AccessPolicy only;
  only.rules = {rule(true, "192.0.2.0/24"), rule(false, "0.0.0.0/0"), rule(false, "::/0")};
  BOOST_TEST(only.active());
  BOOST_TEST(only.decide(ip("192.0.2.9")).allowed);
  BOOST_TEST(!only.decide(ip("198.51.100.1")).allowed);
  BOOST_TEST(!only.decide(ip("2001:db8::1")).allowed);

  // localhost is judged as both loopback addresses.
  AccessPolicy some_loopback;
  some_loopback.refuse_local = true;
  some_loopback.rules = {rule(true, "127.0.0.0/8")};
  BOOST_TEST(!some_loopback.decide_host("localhost")->allowed);  // ::1 is still refused
  some_loopback.rules.push_back(rule(true, "::1"));
  BOOST_TEST(some_loopback.decide_host("localhost")->allowed);
  AccessPolicy deny_on_loopback;
  deny_on_loopback.rules = {rule(false, "127.0.0.1")};
  BOOST_TEST(!deny_on_loopback.decide_host("localhost")->allowed);
}

BOOST_AUTO_TEST_SUITE_END()
