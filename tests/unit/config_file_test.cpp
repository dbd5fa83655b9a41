/// Bounded reads of the files hopchain is given (chain, credentials, users files) and the comment
/// rule the credentials and users files share.
#include "app/config_file.hpp"

#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "app/credentials.hpp"
#include "app/users_file.hpp"

namespace {

struct TempPath {
  std::string path;
  TempPath() {
    char name[] = "/tmp/hc-config-file-XXXXXX";
    const int fd = mkstemp(name);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
  }
  ~TempPath() { std::remove(path.c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(comment_lines_start_with_hash) {
  BOOST_TEST(hc::app::is_comment_line("# x"));
  BOOST_TEST(hc::app::is_comment_line(" \t#x"));
  BOOST_TEST(!hc::app::is_comment_line("alice:pa#ss"));
  BOOST_TEST(!hc::app::is_comment_line("alice:pa #ss"));
  BOOST_TEST(!hc::app::is_comment_line("machine a login u password #x"));
  BOOST_TEST(!hc::app::is_comment_line(""));
}

// The same lines mean the same in both files: `#` first is a comment, elsewhere it is data.
BOOST_AUTO_TEST_CASE(credentials_and_users_files_share_the_rule) {
  const auto parsed = hc::app::parse_credentials(
      "  # note\nmachine a login u password pa#ss\n"
      "# machine b login v password hidden\n"
      "machine c login w password #lead\n");
  BOOST_REQUIRE(parsed.has_value());
  const auto& entries = *parsed;
  BOOST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0].password == "pa#ss");
  BOOST_TEST(entries[1].password == "#lead");

  const auto parsed_users = hc::app::parse_users("  # note\nu:pa#ss\n# v:hidden\nw:#lead\n");
  BOOST_REQUIRE(parsed_users.has_value());
  const auto& users = *parsed_users;
  BOOST_REQUIRE(users.size() == 2u);
  BOOST_TEST(users[0].password == "pa#ss");
  BOOST_TEST(users[1].password == "#lead");
}

BOOST_AUTO_TEST_CASE(trailing_comment_in_credentials_is_a_named_error) {
  const auto error =
      hc::app::parse_credentials("machine a login u password sekrit # my proxy\n").error();
  BOOST_TEST(error.find("line 1") != std::string::npos, error);
  BOOST_TEST(error.find("comment") != std::string::npos, error);
  BOOST_TEST(error.find("sekrit") == std::string::npos);
  // A password split by a space: the stray half is not echoed.
  const auto split = hc::app::parse_credentials("machine a login u password half other\n").error();
  BOOST_TEST(!split.empty());
  BOOST_TEST(split.find("other") == std::string::npos, split);
}

BOOST_AUTO_TEST_CASE(reads_a_regular_file) {
  TempPath f;
  FILE* out = std::fopen(f.path.c_str(), "w");
  BOOST_REQUIRE(out != nullptr);
  std::fputs("socks5://a\n", out);
  std::fclose(out);
  const auto text = hc::app::read_config_file(f.path);
  BOOST_TEST(text.error.empty());
  BOOST_TEST(text.text == "socks5://a\n");
  BOOST_TEST(S_ISREG(text.mode));
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_a_small_regular_file) {
  BOOST_TEST(hc::app::read_config_file("/dev/zero").error.find("character device") !=
             std::string::npos);
  BOOST_TEST(hc::app::read_config_file("/tmp").error.find("directory") != std::string::npos);
  const auto missing = hc::app::read_config_file("/nonexistent/hc-config");
  BOOST_TEST(missing.missing);
  BOOST_TEST(!missing.error.empty());

  TempPath fifo;
  std::remove(fifo.path.c_str());
  BOOST_REQUIRE(::mkfifo(fifo.path.c_str(), 0600) == 0);
  // No writer: a blocking open would hang here.
  BOOST_TEST(hc::app::read_config_file(fifo.path).error.find("FIFO") != std::string::npos);

  TempPath big;
  BOOST_REQUIRE(::truncate(big.path.c_str(), hc::app::kMaxConfigFileSize + 1) == 0);
  const auto text = hc::app::read_config_file(big.path);
  BOOST_TEST(text.error.find("larger than 1 MiB") != std::string::npos, text.error);
  BOOST_TEST(text.text.empty());
  BOOST_REQUIRE(::truncate(big.path.c_str(), hc::app::kMaxConfigFileSize) == 0);
  BOOST_TEST(hc::app::read_config_file(big.path).error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
