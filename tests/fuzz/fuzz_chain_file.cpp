/// Chain file parsing over arbitrary text: either every hop is valid, or there are no hops at all
/// and the error names a line that exists.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_driver.hpp"
#include "fuzz_hop_checks.hpp"
#include "proto/proxy_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = hc::proto::parse_chain_file(text);
  const std::size_t lines =
      static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (result.ec) {
    // No partial chain on error: a caller that forgets to check must not get fewer hops.
    HC_FUZZ_CHECK(result.hops.empty());
    HC_FUZZ_CHECK(result.error_line >= 1 && result.error_line <= lines);
    (void)result.ec.message();
    return 0;
  }
  HC_FUZZ_CHECK(result.hops.size() <= lines);
  for (const auto& hop : result.hops) {
    hc::fuzz::check_hop(hop);
  }
  return 0;
}
