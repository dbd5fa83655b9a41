/// A refusing HTTP proxy's page over arbitrary bytes (proto/http_refusal): the summary that goes
/// into an error message is printable ASCII only and at most 160 characters, whatever the page.
/// Input: a status line up to the first NUL byte, then the body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proto/http_refusal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const auto split = std::find(input.begin(), input.end(), std::uint8_t{0});
  const std::string status(input.begin(), split);
  const auto body =
      split == input.end() ? input.subspan(size) : input.subspan(split - input.begin() + 1);
  const std::string summary = hc::proto::refusal_summary(body, status);
  if (summary.size() > 160 ||
      !std::all_of(summary.begin(), summary.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
    __builtin_trap();
  }
  return 0;
}
