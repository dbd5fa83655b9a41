/// The cache directory's files: the DeadHops text format, the CacheWriter thread and the
/// pipelining memory saved through it.
#include "chain/cache_files.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "chain/dead_hops.hpp"
#include "chain/pipeline_memory.hpp"
#include "support/temp_files.hpp"

namespace {

using hc::test::read_file;
using hc::test::TempDir;

using hc::chain::CacheWriter;
using hc::chain::DeadHops;
using namespace std::chrono_literals;

const DeadHops::WallClock::time_point t0{std::chrono::seconds(1'700'000'000)};

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_files)

BOOST_AUTO_TEST_CASE(dead_hops_text) {
  const DeadHops hops = DeadHops::parse(
      "1700000030 socks5://a b@h:1\n"  // user names may hold spaces
      "1699999999 socks5://old:1\n"    // expired
      "garbage\n"
      "12x socks5://bad:1\n"
      "1700000060 \n"
      "1700000090 http://h2:8080",
      t0);
  BOOST_TEST((*hops.dead_until("socks5://a b@h:1") == t0 + 30s));
  BOOST_TEST((*hops.dead_until("http://h2:8080") == t0 + 90s));
  BOOST_TEST(!hops.dead_until("socks5://old:1"));
  BOOST_TEST(hops.render(t0) == "1700000090 http://h2:8080\n1700000030 socks5://a b@h:1\n");
  BOOST_TEST(hops.render(t0 + 60s) == "1700000090 http://h2:8080\n");  // expired meanwhile

  DeadHops changed = hops;
  BOOST_TEST(changed.mark_alive("http://h2:8080"));
  BOOST_TEST(!changed.mark_alive("http://h2:8080"));
  BOOST_TEST(changed.mark_dead("socks5://x:1", t0 + 500ms));
  BOOST_TEST(!changed.mark_dead("socks5://x:1", t0 + 500ms));
  BOOST_TEST(changed.render(t0) == "1700000030 socks5://a b@h:1\n1700000001 socks5://x:1\n");
  BOOST_TEST(DeadHops::parse("", t0).render(t0).empty());
}

BOOST_AUTO_TEST_CASE(writer_coalesces_and_flushes) {
  TempDir dir;
  const std::string file = dir.path + "/a/b/file";
  {
    CacheWriter writer;
    for (int i = 0; i < 100; ++i) {
      writer.save(file, "v" + std::to_string(i) + "\n");
    }
    writer.flush();
    BOOST_TEST(read_file(file) == "v99\n");
    writer.save(file, "last\n");
  }  // written before the writer goes
  BOOST_TEST(read_file(file) == "last\n");
  CacheWriter writer;
  writer.save("/proc/nonexistent/file", "x");  // a failure is only a lost cache
  writer.flush();
}

BOOST_AUTO_TEST_CASE(cache_path_follows_xdg) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  BOOST_TEST(hc::chain::cache_path("health") == "/x/cache/hopchain/health");
  BOOST_TEST(hc::chain::PipelineMemory::default_path() == "/x/cache/hopchain/pipeline");
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // only absolute paths count
  BOOST_TEST(hc::chain::cache_path("health") != "relative/hopchain/health");
  if (old) {
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("XDG_CACHE_HOME");
  }
}

BOOST_AUTO_TEST_CASE(pipeline_memory_saves_through_the_writer) {
  TempDir dir;
  const std::string file = dir.path + "/pipeline";
  hc::proto::HopSpec hop;
  BOOST_REQUIRE(!hc::proto::parse_proxy_url("socks5://user:pw@h:1080", hop));
  {
    CacheWriter writer;
    hc::chain::PipelineMemory memory(file, &writer);
    memory.record(hop, hc::chain::PipelineVerdict::accepts);
  }
  BOOST_TEST(read_file(file) == "accepts socks5://h:1080\n");
  hc::chain::PipelineMemory again(file);
  BOOST_TEST(to_string(again.verdict(hop)) == "accepts");
  again.record(hop, hc::chain::PipelineVerdict::refuses);  // no writer: this process only
  BOOST_TEST(read_file(file) == "accepts socks5://h:1080\n");
}

BOOST_AUTO_TEST_SUITE_END()
