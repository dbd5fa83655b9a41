/// SOCKS BIND client handshake over arbitrary server bytes: Socks5Bind and Socks4Bind driven
/// through both replies (the pause after the first one included), whole or in small pieces.
/// Input: one configuration byte, then the server's bytes. With the "valid start" bit the target
/// itself plays a granted method reply and first reply, so every fuzzer byte lands on the second.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "../support/bind_driver.hpp"
#include "fuzz_driver.hpp"
#include "proto/socks_bind.hpp"

namespace {

using hc::proto::BindPhase;
using hc::proto::Stage;
using Kind = hc::proto::Step::Kind;

// Method reply, RFC 1929 reply, and two replies with a 255-byte name each.
constexpr std::size_t kMaxSocks5 = 2 + 2 + 2 * (4 + 1 + 255 + 2);
constexpr std::size_t kMaxSocks4 = 2 * hc::proto::kSocks4ReplySize;

struct Config {
  bool socks4;
  bool creds;
  bool pipelined;
  bool valid_start;
  bool by_name;
  std::size_t chunk;  // 0: as asked; else at most 1..7 bytes a time
};

// What every run must hold, whichever version: the pause comes once and before any accept-stage
// step, a finished run knows its peer, and no payload byte is ever taken.
template <class Bind>
void check(const hc::test::BothReplies<Bind>& codec, const hc::fuzz::DriveResult& r,
           const Stage last_stage) {
  const Bind& bind = codec.codec;
  HC_FUZZ_CHECK(codec.pauses <= 1);
  HC_FUZZ_CHECK(codec.leftover().empty());
  if (codec.pauses == 1) {
    HC_FUZZ_CHECK(!bind.bound().host.empty());
    HC_FUZZ_CHECK(bind.bound_unspecified() ==
                  (bind.bound().host == "0.0.0.0" || bind.bound().host == "::"));
  }
  if (r.end == Kind::done) {
    HC_FUZZ_CHECK(codec.pauses == 1);
    HC_FUZZ_CHECK(bind.phase() == BindPhase::done);
    HC_FUZZ_CHECK(!bind.peer().host.empty());
    HC_FUZZ_CHECK(bind.peer().host.size() <= 255);
  }
  if (r.end == Kind::fail) {
    HC_FUZZ_CHECK(bind.phase() == BindPhase::failed);
    // A failure after the pause is the second reply's, and says so.
    HC_FUZZ_CHECK((codec.pauses == 1) == (last_stage == Stage::accept));
    (void)r.ec.message();
  }
}

std::vector<std::uint8_t> with_start(const Config& c, std::span<const std::uint8_t> rest) {
  std::vector<std::uint8_t> out;
  if (c.valid_start && c.socks4) {
    out = {0x00, 0x5A, 0xC3, 0x50, 0x00, 0x00, 0x00, 0x00};
  } else if (c.valid_start) {
    out = {0x05, static_cast<std::uint8_t>(c.creds ? 0x02 : 0x00)};
    if (c.creds) {
      out.insert(out.end(), {0x01, 0x00});
    }
    out.insert(out.end(), {0x05, 0x00, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x01, 0xC3, 0x50});
  }
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// The stage of the codec's last step, so a failure can be checked against the pause.
Stage last_stage(hc::proto::Handshake& codec) {
  return codec.resume({}).stage;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::uint8_t b = in.byte();
  const Config c{(b & 1) != 0, (b & 2) != 0,  (b & 4) != 0,
                 (b & 8) != 0, (b & 16) != 0, static_cast<std::size_t>(b >> 5)};
  const auto replies = with_start(c, in.rest());
  const hc::proto::HostPort peer{c.by_name ? "peer.example" : "192.0.2.7", 21};

  if (c.socks4) {
    hc::test::BothReplies<hc::proto::Socks4Bind> codec(peer, "fuzz-user", c.by_name);
    const auto r = hc::fuzz::drive(codec, replies, c.chunk);
    HC_FUZZ_CHECK(r.consumed <= kMaxSocks4);
    HC_FUZZ_CHECK(r.end != Kind::done || r.consumed == kMaxSocks4);
    check(codec, r, r.end == Kind::fail ? last_stage(codec) : Stage::request);
  } else {
    std::optional<hc::proto::Credentials> creds;
    if (c.creds) {
      creds = hc::proto::Credentials{"fuzz-user", "fuzz-password"};
    }
    hc::test::BothReplies<hc::proto::Socks5Bind> codec(peer, creds, c.pipelined);
    const auto r = hc::fuzz::drive(codec, replies, c.chunk);
    HC_FUZZ_CHECK(r.consumed <= kMaxSocks5);
    check(codec, r, r.end == Kind::fail ? last_stage(codec) : Stage::request);
  }
  return 0;
}
