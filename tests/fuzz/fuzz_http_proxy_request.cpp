/// HTTP proxy request heads over arbitrary bytes: HttpProxyRequestHead fed in pieces, and the
/// chunked-body scanner. Checks that the head ends at its blank line with the rest kept byte for
/// byte as leftover, that the head never exceeds the limit, that a forwarded head carries no
/// Proxy-Authorization and no control bytes inside its lines, and that the chunked scanner finds
/// the same end whatever the pieces.
/// Input: one configuration byte (piece size), then the client's bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/http_proxy_request.hpp"

namespace {

std::string lowered(std::span<const std::uint8_t> bytes) {
  std::string s(bytes.begin(), bytes.end());
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return s;
}

std::size_t chunked_end(std::span<const std::uint8_t> body, std::size_t piece, bool& failed) {
  hc::proto::ChunkedBodyEnd scanner;
  std::size_t consumed = 0;
  for (std::size_t at = 0; at < body.size() && !scanner.done() && !scanner.failed(); at += piece) {
    const auto n = std::min(piece, body.size() - at);
    const std::size_t used = scanner.feed(body.subspan(at, n));
    HC_FUZZ_CHECK(used <= n);
    consumed += used;
    if (used < n) {
      HC_FUZZ_CHECK(scanner.done() || scanner.failed());
    }
  }
  failed = scanner.failed();
  return scanner.done() ? consumed : body.size() + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hc::proto::HttpProxyRequestHead;
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  const std::size_t piece = 1 + (config & 0x3F) * 37;
  const auto input = in.rest();

  HttpProxyRequestHead head;
  std::size_t fed = 0;
  auto result = HttpProxyRequestHead::Result::need_more;
  while (fed < input.size() && result == HttpProxyRequestHead::Result::need_more) {
    const std::size_t n = std::min(piece, input.size() - fed);
    result = head.feed(input.subspan(fed, n));
    fed += n;
  }
  if (result == HttpProxyRequestHead::Result::done) {
    const auto left = head.leftover();
    const std::size_t head_size = fed - left.size();
    HC_FUZZ_CHECK(head_size <= hc::proto::kHttpMaxRequestHead);
    HC_FUZZ_CHECK(head_size >= 2 && input[head_size - 1] == '\n');
    HC_FUZZ_CHECK(std::equal(left.begin(), left.end(),
                             input.begin() + static_cast<std::ptrdiff_t>(head_size)));
    const auto& request = head.request();
    HC_FUZZ_CHECK(request.target.port != 0 && !request.target.host.empty());
    const std::string forwarded = lowered(request.forward_head);
    HC_FUZZ_CHECK(forwarded.find("proxy-authorization") == std::string::npos);
    HC_FUZZ_CHECK(std::none_of(forwarded.begin(), forwarded.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\r' && c != '\n' && c != '\t');
    }));
  } else if (result == HttpProxyRequestHead::Result::error) {
    HC_FUZZ_CHECK(head.error());
    (void)hc::proto::http_status_for(static_cast<hc::proto::HttpProxyError>(head.error().value()));
  } else {
    HC_FUZZ_CHECK(fed <= hc::proto::kHttpMaxRequestHead);
  }
  (void)hc::proto::decode_basic_credentials(
      std::string_view(reinterpret_cast<const char*>(input.data()), input.size()));

  bool failed_whole = false;
  bool failed_pieces = false;
  const std::size_t whole = chunked_end(input, input.size() + 1, failed_whole);
  HC_FUZZ_CHECK(chunked_end(input, piece, failed_pieces) == whole);
  HC_FUZZ_CHECK(failed_whole == failed_pieces);
  return 0;
}
