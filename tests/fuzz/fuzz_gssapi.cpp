/// SOCKS5 GSS-API (RFC 1961) over arbitrary peer bytes, with the fake mechanism: the client's
/// and the server's negotiation, and the per-message decapsulation of a protected stream.
/// Input: one configuration byte, then the peer's bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "../support/fake_gss.hpp"
#include "fuzz_driver.hpp"
#include "proto/socks5_gssapi.hpp"

namespace {

using hc::proto::Protection;
using hc::test::FakeGss;
using Kind = hc::proto::Step::Kind;
namespace gssapi = hc::proto::gssapi;

// Every message of a negotiation is at most a header and a 65,535-byte token; a run reads at
// most a handful of them and nothing after the last.
constexpr std::size_t kMaxNegotiation = 8 * (gssapi::kHeaderSize + gssapi::kMaxToken);

Protection level_of(std::uint8_t bits) {
  return static_cast<Protection>(bits % 3);
}

void fuzz_client(std::uint8_t config, std::span<const std::uint8_t> peer) {
  FakeGss gss(FakeGss::Role::client, {.mutual = (config & 4) != 0});
  gssapi::ClientNegotiation codec(gss, level_of(config >> 3), level_of(config >> 5));
  const auto r = hc::fuzz::drive(codec, peer, config >> 6);
  HC_FUZZ_CHECK(r.consumed <= kMaxNegotiation);
  if (r.end == Kind::done) {
    HC_FUZZ_CHECK(codec.selected() >= level_of(config >> 5));
  }
  (void)r.ec.message();
}

void fuzz_server(std::uint8_t config, std::span<const std::uint8_t> peer) {
  FakeGss gss(FakeGss::Role::server, {.mutual = (config & 4) != 0});
  gssapi::ServerNegotiation codec(gss, level_of(config >> 3));
  const auto r = hc::fuzz::drive(codec, peer, config >> 6);
  HC_FUZZ_CHECK(r.consumed <= kMaxNegotiation);
  if (r.end == Kind::done) {
    HC_FUZZ_CHECK(codec.selected() <= level_of(config >> 3));
  }
  (void)r.ec.message();
}

void fuzz_stream(std::uint8_t config, std::span<const std::uint8_t> peer) {
  FakeGss gss(FakeGss::Role::server);
  gssapi::Decapsulator reader(gss, level_of(config >> 3));
  const std::size_t piece = 1 + (config >> 5);
  for (std::size_t at = 0; at < peer.size(); at += piece) {
    reader.feed(peer.subspan(at, std::min(piece, peer.size() - at)));
    for (int messages = 0; messages < 64; ++messages) {
      auto next = reader.next();
      if (!next) {
        (void)next.error().message();
        return;
      }
      if (!*next) {
        break;
      }
      HC_FUZZ_CHECK((*next)->size() <= gssapi::kMaxToken);
    }
    HC_FUZZ_CHECK(reader.pending() <= gssapi::kHeaderSize + gssapi::kMaxToken + piece);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  switch (config & 3) {
    case 0:
      fuzz_client(config, in.rest());
      break;
    case 1:
      fuzz_server(config, in.rest());
      break;
    default:
      fuzz_stream(config, in.rest());
      break;
  }
  return 0;
}
