/// HTTP CONNECT responses over arbitrary bytes: HttpResponseHead fed in pieces, and HttpConnect
/// driven as the chain drives it. Checks that the head ends where the blank line is, that what
/// follows it is kept byte for byte as leftover (tunnel payload), that the head never exceeds the
/// limit, and that text meant for error messages is printable ASCII only.
/// Input: one configuration byte (piece size, credentials), then the server's bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/http_connect.hpp"

namespace {

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hc::proto::HttpResponseHead;
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  const std::size_t piece = 1 + (config & 0x3F) * 37;  // 1 .. 2332 bytes per feed
  const auto reply = in.rest();

  HttpResponseHead head;
  std::size_t fed = 0;
  HttpResponseHead::Result result = HttpResponseHead::Result::need_more;
  while (fed < reply.size() && result == HttpResponseHead::Result::need_more) {
    const std::size_t n = std::min(piece, reply.size() - fed);
    const std::vector<std::uint8_t> chunk(reply.begin() + static_cast<std::ptrdiff_t>(fed),
                                          reply.begin() + static_cast<std::ptrdiff_t>(fed + n));
    fed += n;
    result = head.feed(chunk);
  }
  HC_FUZZ_CHECK(printable(head.status_line()));
  HC_FUZZ_CHECK(head.status_line().size() <= 200);
  if (result == HttpResponseHead::Result::done) {
    const auto left = head.leftover();
    HC_FUZZ_CHECK(left.size() <= fed);
    const std::size_t head_size = fed - left.size();
    HC_FUZZ_CHECK(head_size <= hc::proto::kHttpMaxHeaderBlock);
    // The head ends with its blank line, and the leftover is exactly the bytes after it.
    HC_FUZZ_CHECK(head_size >= 2 && reply[head_size - 1] == '\n');
    HC_FUZZ_CHECK(std::equal(left.begin(), left.end(),
                             reply.begin() + static_cast<std::ptrdiff_t>(head_size)));
    HC_FUZZ_CHECK(head.status() >= 100 && head.status() <= 999);
    (void)head.header("Proxy-Authenticate");
  } else if (result == HttpResponseHead::Result::error) {
    HC_FUZZ_CHECK(head.error());
    (void)head.error().message();
  } else {
    HC_FUZZ_CHECK(fed < hc::proto::kHttpMaxHeaderBlock);
  }
  // Feeding after the end changes nothing.
  const std::uint8_t more[] = {'\r', '\n'};
  HC_FUZZ_CHECK(result == HttpResponseHead::Result::need_more || head.feed(more) == result);

  std::optional<hc::proto::Credentials> creds;
  if (config & 0x40) {
    creds = hc::proto::Credentials{"fuzz-user", "fuzz-password"};
  }
  hc::proto::HttpConnect codec(hc::proto::HostPort{"target.example", 22}, creds);
  const auto r = hc::fuzz::drive(codec, reply, (config & 0x80) ? 3 : 0);
  HC_FUZZ_CHECK(printable(codec.detail()));
  if (r.end == hc::proto::Step::Kind::done) {
    const auto left = codec.leftover();
    HC_FUZZ_CHECK(left.size() <= r.consumed);
    HC_FUZZ_CHECK(r.consumed - left.size() <= hc::proto::kHttpMaxHeaderBlock);
    HC_FUZZ_CHECK(
        std::equal(left.begin(), left.end(),
                   reply.begin() + static_cast<std::ptrdiff_t>(r.consumed - left.size())));
    const int status = codec.response().status();
    HC_FUZZ_CHECK(status >= 200 && status < 300);
  }
  return 0;
}
