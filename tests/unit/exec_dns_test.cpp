// exec's DNS plan: the namespace's resolv.conf (a private file naming the stub at 127.0.0.53,
// readable by the command) and the stub's two sockets, and the upstream choice with and
// without hops.
#include "app/exec_dns.hpp"

#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

namespace hc::app {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

BOOST_AUTO_TEST_SUITE(exec_dns)

BOOST_AUTO_TEST_CASE(plan_names_the_stub_in_a_readable_file_and_adds_two_sockets) {
  capture::NamespacePlan plan;
  auto planned = plan_exec_dns(plan);
  BOOST_REQUIRE(planned);
  BOOST_REQUIRE(!plan.resolv_conf.empty());
  const std::string text = slurp(plan.resolv_conf);
  BOOST_TEST(text.find("nameserver 127.0.0.53") != std::string::npos);
  BOOST_TEST(text.find("search") == std::string::npos);
  struct stat info {};
  BOOST_REQUIRE(::stat(plan.resolv_conf.c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0777) == 0644u);
  BOOST_TEST(plan.extra_sockets.size() == 2u);
  ::unlink(plan.resolv_conf.c_str());
}

BOOST_AUTO_TEST_CASE(upstream_is_the_dns_server_given) {
  Config config;
  config.dns_servers = {"192.0.2.53:5353"};
  auto upstream = exec_dns_upstream(config);
  BOOST_REQUIRE(upstream);
  BOOST_TEST(upstream->to_string() == "192.0.2.53:5353");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace hc::app
