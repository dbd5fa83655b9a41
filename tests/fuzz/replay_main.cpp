/// Replays the fuzz corpora through the fuzz targets' entry points, without libFuzzer, so that
/// the normal (g++) build and CI run every seed and every committed crash input.
///
///   fuzz_replay CORPUS_ROOT   runs CORPUS_ROOT/<target>/* through each target; every target
///                             must have at least one input
///
/// Each target's LLVMFuzzerTestOneInput is compiled under the name hc_fuzz_<target> (see
/// CMakeLists.txt). A failed invariant aborts, which fails the test with the file name printed
/// just before.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define HC_FUZZ_TARGET(name) extern "C" int hc_fuzz_##name(const std::uint8_t*, std::size_t);
#include "fuzz_targets.inc"
#undef HC_FUZZ_TARGET

namespace {

struct Target {
  const char* name;
  int (*run)(const std::uint8_t*, std::size_t);
};

const Target kTargets[] = {
#define HC_FUZZ_TARGET(name) {#name, hc_fuzz_##name},
#include "fuzz_targets.inc"
#undef HC_FUZZ_TARGET
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path root = argv[1];
  int failures = 0;
  std::size_t total = 0;
  for (const Target& t : kTargets) {
    const fs::path dir = root / t.name;
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file()) {
        files.push_back(it->path());
      }
    }
    if (files.empty()) {
      std::fprintf(stderr, "%s: no corpus files in %s\n", t.name, dir.c_str());
      ++failures;
      continue;
    }
    for (const fs::path& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> text((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
      // A heap copy of the exact size, as libFuzzer gives: an over-read trips ASan.
      std::vector<std::uint8_t> bytes(text.begin(), text.end());
      std::fprintf(stderr, "%s: %s\n", t.name, file.filename().c_str());
      t.run(bytes.data(), bytes.size());
      ++total;
    }
    std::printf("%s: %zu inputs ok\n", t.name, files.size());
  }
  std::printf("%zu corpus inputs replayed\n", total);
  return failures == 0 ? 0 : 1;
}
