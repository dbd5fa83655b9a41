/// Files for unit tests that read and write the cache directory: a fresh directory removed
/// afterwards, and a file's whole text.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

namespace hc::test {

/// A fresh directory under $TMPDIR (or /tmp), removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && base[0] == '/' ? base : "/tmp") + "/hc-unit-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

/// The whole text of `path` (empty when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace hc::test
