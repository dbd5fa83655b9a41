/// Scrubbing passwords out of the argv strings the kernel shows in /proc/PID/cmdline.
#include "argv_secrets.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

/// An argv the way the kernel lays it out: strings back to back, each ending in a NUL.
struct Argv {
  std::vector<char> area;
  std::vector<char*> argv;
  explicit Argv(const std::vector<std::string>& args) {
    for (const auto& a : args) {
      area.insert(area.end(), a.begin(), a.end());
      area.push_back('\0');
    }
    std::size_t offset = 0;
    for (const auto& a : args) {
      argv.push_back(area.data() + offset);
      offset += a.size() + 1;
    }
  }
  int argc() const { return static_cast<int>(argv.size()); }
  /// The whole area, as /proc/PID/cmdline returns it.
  std::string raw() const { return std::string(area.begin(), area.end()); }
};

std::string scrubbed(const std::string& url) {
  Argv a({url});
  hc::cli::scrub_url_password(a.argv[0]);
  return a.argv[0];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(argv_secrets)

BOOST_AUTO_TEST_CASE(url_keeps_its_shape) {
  BOOST_TEST(scrubbed("socks5h://alice:s3cret@bastion:1080") == "socks5h://alice:***@bastion:1080");
  BOOST_TEST(scrubbed("http://u:%54p%42asic@proxy") == "http://u:***@proxy");
  BOOST_TEST(scrubbed("--via=https://u:pw@h:443/?cafile=/a") ==
             "--via=https://u:**@h:443/?cafile=/a");
  BOOST_TEST(scrubbed("-xsocks5://u:p@ss:w@h") == "-xsocks5://u:***@h");  // the last '@' splits
  BOOST_TEST(scrubbed("socks5://u::@h") == "socks5://u:*@h");
}

BOOST_AUTO_TEST_CASE(leaves_what_holds_no_password) {
  for (const char* arg :
       {"socks5h://alice@bastion:1080", "socks5://h:1080", "socks5://u:@h", "stdio", "example.org",
        "8080:intranet:80", "socks5+tls://h?cafile=/x@y:z", "--dns-server=127.0.0.1:53",
        "http://h/u:p@x"}) {
    Argv a({arg});
    BOOST_TEST(!hc::cli::scrub_url_password(a.argv[0]), arg);
    BOOST_TEST(std::string(a.argv[0]) == arg);
  }
}

BOOST_AUTO_TEST_CASE(the_raw_argv_area_loses_every_password) {
  Argv a({"hopchain", "-x", "socks5h://alice:Pass-One@bastion:1080", "--via=http://b:Pass%2DTwo@p",
          "-xsocks5://c:Pass-Three@q", "forward", "8080:intranet:80"});
  BOOST_TEST(hc::cli::scrub_argv_passwords(a.argc(), a.argv.data()) == 3);
  const std::string raw = a.raw();
  for (const char* secret : {"Pass-One", "Pass%2DTwo", "Pass-Two", "Pass-Three", "Pass"}) {
    BOOST_TEST(raw.find(secret) == std::string::npos, secret);
  }
  BOOST_TEST(std::string(a.argv[2]) == "socks5h://alice:***@bastion:1080");
  BOOST_TEST(std::string(a.argv[3]) == "--via=http://b:***@p");
  BOOST_TEST(std::string(a.argv[4]) == "-xsocks5://c:***@q");
  BOOST_TEST(std::string(a.argv[6]) == "8080:intranet:80");
  BOOST_TEST(raw.size() == a.area.size());  // nothing written beyond the area
}

BOOST_AUTO_TEST_SUITE_END()
