/// SOCKS4/4a reply handling: Socks4Connect driven over arbitrary server bytes, and parse_reply.
/// Input: one configuration byte (target kind, user id, delivery chunk size), then the reply.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_driver.hpp"
#include "proto/socks4.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  const bool by_name = config & 1;
  const std::string userid = (config & 2) ? "fuzz-user" : "";
  const std::size_t chunk = (config >> 2) & 7;  // 0: as asked; else at most 1..7 bytes a time
  const auto reply = in.rest();

  hc::proto::Socks4Connect codec(hc::proto::HostPort{by_name ? "target.example" : "192.0.2.7", 443},
                                 userid, by_name);
  const auto r = hc::fuzz::drive(codec, reply, chunk);
  // The reply is exactly 8 bytes: never more consumed, and done only with all 8.
  HC_FUZZ_CHECK(r.consumed <= hc::proto::kSocks4ReplySize);
  if (r.end == hc::proto::Step::Kind::done) {
    HC_FUZZ_CHECK(r.consumed == hc::proto::kSocks4ReplySize);
    HC_FUZZ_CHECK(reply[0] == 0x00 && reply[1] == 0x5A);
    HC_FUZZ_CHECK(codec.leftover().empty());
  }

  if (reply.size() >= hc::proto::kSocks4ReplySize) {
    const std::span<const std::uint8_t, hc::proto::kSocks4ReplySize> head(
        reply.data(), hc::proto::kSocks4ReplySize);
    const auto ec = hc::proto::Socks4Connect::parse_reply(head);
    HC_FUZZ_CHECK(!ec == (head[0] == 0x00 && head[1] == 0x5A));
    (void)ec.message();
  }
  return 0;
}
