// CaptureNamespace end to end, without a chain: the command runs in the namespace, sees the
// plan's resolv.conf (the seam the DNS stub uses) while the caller's stays as it was, has no
// capabilities, and its exit status comes back. Skipped where namespaces cannot be made.
#include <fstream>
#include <string>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>

#include "capture/namespace.hpp"
#include "support/temp_files.hpp"

BOOST_AUTO_TEST_SUITE(capture_namespace_run)

BOOST_AUTO_TEST_CASE(the_command_sees_the_plans_resolv_conf_and_has_no_capabilities) {
  const hc::test::TempDir dir;
  const std::string ours = dir.path + "/resolv.conf";
  std::ofstream(ours) << "nameserver 10.255.255.1\n";
  const std::string before = hc::test::read_file("/etc/resolv.conf");
  hc::capture::NamespacePlan plan;
  plan.resolv_conf = ours;
  plan.argv = {"sh", "-c",
               "cat /etc/resolv.conf >" + dir.path + "/seen; grep ^CapEff /proc/self/status >" +
                   dir.path + "/caps; exit 7"};
  auto space = hc::capture::CaptureNamespace::start(plan);
  if (!space) {
    BOOST_TEST_MESSAGE("skipped: " << hc::capture::describe(space.error(), {}));
    return;
  }
  BOOST_TEST(space->take_tcp_listeners().size() >= 1u);
  BOOST_REQUIRE(space->start_command().has_value());
  int status = 0;
  BOOST_REQUIRE(::waitpid(space->pid(), &status, 0) == space->pid());
  BOOST_TEST(WEXITSTATUS(status) == 7);
  BOOST_TEST(hc::test::read_file(dir.path + "/seen") == "nameserver 10.255.255.1\n");
  BOOST_TEST(hc::test::read_file(dir.path + "/caps") == "CapEff:\t0000000000000000\n");
  BOOST_TEST(hc::test::read_file("/etc/resolv.conf") == before);
}

BOOST_AUTO_TEST_CASE(a_command_not_found_never_runs) {
  hc::capture::NamespacePlan plan;
  plan.argv = {"no-such-command-hc-unit"};
  auto space = hc::capture::CaptureNamespace::start(plan);
  if (!space) {
    BOOST_TEST_MESSAGE("skipped: " << hc::capture::describe(space.error(), {}));
    return;
  }
  auto started = space->start_command();
  BOOST_REQUIRE(!started.has_value());
  BOOST_TEST(hc::capture::exit_status(started.error()) == 127);
}

BOOST_AUTO_TEST_SUITE_END()
