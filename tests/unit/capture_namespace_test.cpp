#include <cerrno>
#include <string>

#include <boost/test/unit_test.hpp>

#include "capture/namespace_child.hpp"
#include "capture/namespace_errors.hpp"
#include "capture/nft_rules.hpp"

using hc::capture::ChildFailure;
using hc::capture::Stage;
using hc::capture::UsernsSettings;

BOOST_AUTO_TEST_SUITE(capture_namespace)

BOOST_AUTO_TEST_CASE(the_ruleset_redirects_tcp_off_loopback_in_both_families) {
  const std::string rules = hc::capture::capture_ruleset(40000, 40001, "# extra\n");
  BOOST_TEST(rules.find("type nat hook output priority -100") != std::string::npos, rules);
  BOOST_TEST(rules.find("ip daddr != 127.0.0.0/8 meta l4proto tcp redirect to :40000") !=
                 std::string::npos,
             rules);
  BOOST_TEST(
      rules.find("ip6 daddr != ::1 meta l4proto tcp redirect to :40001") != std::string::npos,
      rules);
  BOOST_TEST(rules.substr(rules.size() - 8) == "# extra\n");
}

BOOST_AUTO_TEST_CASE(udp_rules_mark_and_tproxy_what_leaves_but_not_the_replies) {
  const std::string rules =
      hc::capture::udp_capture_rules(40002, 0x6863, "10.255.255.1", "fd00:6863:ffff::1");
  const std::string v4 = "meta l4proto udp ip daddr != 127.0.0.0/8 ip daddr != 10.255.255.1";
  const std::string v6 = "meta l4proto udp ip6 daddr != ::1 ip6 daddr != fd00:6863:ffff::1";
  BOOST_TEST(rules.find("type route hook output priority mangle") != std::string::npos, rules);
  BOOST_TEST(rules.find(v4 + " meta mark set 26723\n") != std::string::npos, rules);
  BOOST_TEST(rules.find(v6 + " meta mark set 26723\n") != std::string::npos, rules);
  BOOST_TEST(rules.find("type filter hook prerouting priority mangle") != std::string::npos, rules);
  BOOST_TEST(
      rules.find("meta mark 26723 meta l4proto udp tproxy to :40002 accept") != std::string::npos,
      rules);
}

BOOST_AUTO_TEST_CASE(a_kernel_without_nftables_is_named_with_the_fix) {
  const std::string text =
      hc::capture::explain_nft_error("Error: Could not process rule: Operation not supported\n");
  BOOST_TEST(text.find("Operation not supported (this kernel lacks nftables") != std::string::npos,
             text);
  BOOST_TEST(text.find("modprobe nf_tables") != std::string::npos);
  BOOST_TEST(text.find("nft_tproxy") != std::string::npos);
  BOOST_TEST(text.find("--no-udp") != std::string::npos);
  BOOST_TEST(hc::capture::explain_nft_error("Error: syntax error") == "Error: syntax error");
}

BOOST_AUTO_TEST_CASE(forbidden_user_namespaces_name_the_setting_and_sudo) {
  const ChildFailure refused{Stage::user_namespace, EPERM, ""};
  const auto zero = hc::capture::describe(refused, UsernsSettings{0, std::nullopt, std::nullopt});
  BOOST_TEST(zero.find("user.max_user_namespaces is 0") != std::string::npos, zero);
  const auto debian = hc::capture::describe(refused, UsernsSettings{15000, 0, std::nullopt});
  BOOST_TEST(debian.find("kernel.unprivileged_userns_clone is 0") != std::string::npos, debian);
  const auto apparmor = hc::capture::describe(refused, UsernsSettings{15000, 1, 1});
  BOOST_TEST(apparmor.find("kernel.apparmor_restrict_unprivileged_userns") != std::string::npos,
             apparmor);
  for (const auto& text : {zero, debian, apparmor}) {
    BOOST_TEST(text.find("as root (sudo) works") != std::string::npos, text);
  }
  BOOST_TEST(hc::capture::exit_status(refused) == 2);
}

BOOST_AUTO_TEST_CASE(a_command_not_found_is_127_and_not_executable_126) {
  const ChildFailure missing{Stage::exec, ENOENT, "curlx"};
  BOOST_TEST(hc::capture::describe(missing, {}) == "curlx: command not found");
  BOOST_TEST(hc::capture::exit_status(missing) == 127);
  const ChildFailure denied{Stage::exec, EACCES, "./notes.txt"};
  BOOST_TEST(hc::capture::describe(denied, {}) ==
             "./notes.txt: cannot execute (Permission denied)");
  BOOST_TEST(hc::capture::exit_status(denied) == 126);
}

BOOST_AUTO_TEST_CASE(a_child_failure_survives_the_wire) {
  const ChildFailure sent{Stage::rules, 95, "Error: no nat"};
  const auto got = hc::capture::detail::decode_failure(hc::capture::detail::encode_failure(sent));
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST((got->stage == Stage::rules));
  BOOST_TEST(got->error == 95);
  BOOST_TEST(got->detail == "Error: no nat");
  BOOST_TEST(!hc::capture::detail::decode_failure("F").has_value());
  BOOST_TEST(!hc::capture::detail::decode_failure(std::string("F\x7f\0\0\0\0", 6)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
