/// SOCKS5 client handshake over arbitrary server bytes: the method reply, the RFC 1929 reply and
/// the command reply, through Socks5Connect in every mode (credentials or not, pipelined or not,
/// CONNECT or UDP ASSOCIATE) and with replies delivered whole or in small pieces.
/// Input: one configuration byte, then the server's bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_driver.hpp"
#include "proto/socks5.hpp"

namespace {

// The longest SOCKS5 conversation: method reply, auth reply, and a reply with a 255-byte name.
constexpr std::size_t kMaxReplies = 2 + 2 + (4 + 1 + 255 + 2);

const char* target_host(unsigned kind) {
  switch (kind) {
    case 0:
      return "192.0.2.7";
    case 1:
      return "2001:db8::7";
    default:
      return "target.example";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  std::optional<hc::proto::Credentials> creds;
  if (config & 1) {
    creds = hc::proto::Credentials{"fuzz-user", "fuzz-password"};
  }
  hc::proto::Socks5Options options;
  options.pipelined = config & 2;
  options.command =
      (config & 4) ? hc::proto::Socks5Command::udp_associate : hc::proto::Socks5Command::connect;
  const unsigned target_kind = (config >> 3) & 3;
  const std::size_t chunk = (config >> 5) & 7;  // 0: as asked; else at most 1..7 bytes a time
  const auto reply = in.rest();

  hc::proto::Socks5Connect codec(hc::proto::HostPort{target_host(target_kind), 443}, creds,
                                 options);
  const auto r = hc::fuzz::drive(codec, reply, chunk);
  HC_FUZZ_CHECK(r.consumed <= kMaxReplies);
  if (r.end == hc::proto::Step::Kind::done) {
    // A finished handshake has a bound address, never an empty name, and read no payload.
    HC_FUZZ_CHECK(!codec.bound().host.empty());
    HC_FUZZ_CHECK(codec.bound().host.size() <= 255);
    HC_FUZZ_CHECK(codec.leftover().empty());
  }
  if (r.end == hc::proto::Step::Kind::fail) {
    (void)r.ec.message();
  }
  return 0;
}
