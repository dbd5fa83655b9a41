/// SOCKS5 ATYP ADDR PORT decoding (replies and UDP headers) over arbitrary bytes, with the
/// incremental contract checked: `needed` only grows toward a decodable length, and a decoded
/// address re-encodes to the same bytes. The message head reader, given the same bytes as the
/// address of a request or reply, must agree with it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/socks5_address.hpp"
#include "proto/socks5_head.hpp"

namespace {

namespace s5 = hc::proto::socks5;

// `address` behind VER CODE RSV: the head gives decode_address's verdict on ATYP and the first
// address octet, and the message of the length it names decodes to the same address.
void check_head(std::span<const std::uint8_t> address) {
  std::vector<std::uint8_t> bytes{0x05, 0x00, 0x00};
  bytes.insert(bytes.end(), address.begin(), address.end());
  const std::span<const std::uint8_t> message(bytes);
  if (message.size() < s5::kHeadSize) {
    return;
  }
  const auto head = s5::read_head(message.first<s5::kHeadSize>());
  const auto partial = s5::decode_address(address.first(2));
  HC_FUZZ_CHECK(head.address_ec == partial.ec);
  if (head.address_ec) {
    HC_FUZZ_CHECK(head.size == 0);
    return;
  }
  HC_FUZZ_CHECK(head.size > s5::kHeadSize);
  HC_FUZZ_CHECK(head.size == s5::kAddressOffset + partial.needed);
  if (message.size() < head.size) {
    return;
  }
  const auto whole = s5::read_message_address(message.first(head.size));
  const auto d = s5::decode_address(address);
  HC_FUZZ_CHECK(!whole.ec && !d.ec);
  HC_FUZZ_CHECK(whole.address.host == d.address.host && whole.address.port == d.address.port);
  HC_FUZZ_CHECK(s5::read_message_address(message.first(head.size - 1)).ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size copy, so an over-read is a heap overflow under ASan.
  const std::vector<std::uint8_t> bytes(data, data + size);
  const std::span<const std::uint8_t> in(bytes);
  check_head(in);

  const auto d = s5::decode_address(in);
  if (d.ec) {
    HC_FUZZ_CHECK(d.consumed == 0);
    (void)d.ec.message();
    return 0;
  }
  if (d.consumed == 0) {
    // Too short: it says how much it needs, which is more than it has, and at most 1+1+255+2.
    HC_FUZZ_CHECK(d.needed > in.size());
    HC_FUZZ_CHECK(d.needed <= 259);
    return 0;
  }
  HC_FUZZ_CHECK(d.consumed <= in.size());
  HC_FUZZ_CHECK(d.consumed == d.needed);
  // Every prefix is "need more" (or the same early error), never a different success.
  for (std::size_t n = 0; n < d.consumed; ++n) {
    const auto p = s5::decode_address(in.first(n));
    HC_FUZZ_CHECK(!p.ec && p.consumed == 0 && p.needed > n && p.needed <= d.consumed);
  }
  // Addresses re-encode byte for byte; names only when they are sendable names.
  std::vector<std::uint8_t> again;
  if (!s5::encode_address(d.address, again)) {
    const bool is_name = in[0] == s5::kAtypDomain;
    if (!is_name || again[0] == s5::kAtypDomain) {
      HC_FUZZ_CHECK(again.size() == d.consumed);
      HC_FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin()));
    }
  }
  return 0;
}
