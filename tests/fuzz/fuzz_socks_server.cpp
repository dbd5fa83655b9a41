/// SOCKS4/4a/5 server handshake (SocksServerHandshake) over arbitrary client bytes: the greeting,
/// RFC 1929 sub-negotiation, the SOCKS5 request and the SOCKS4 head with its NUL-terminated
/// fields, with or without users configured, with or without UDP ASSOCIATE and BIND allowed,
/// and with the client's bytes delivered as asked or in small pieces.
/// Input: one configuration byte, then the client's bytes.
///
/// Checked: a finished request is one the options allow, with a target that can go into a log,
/// a DNS query and the next hop's request; the codec never reads past the request (the same
/// bytes followed by payload end at the same point, with the same request); its replies have
/// the size the protocol fixes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/socks_server.hpp"

namespace {

using hc::proto::SocksServerHandshake;
using hc::proto::SocksVersion;
using Kind = hc::proto::Step::Kind;

constexpr std::string_view kUser = "fuzz-user";
constexpr std::string_view kPassword = "fuzz-password";

// The longest conversations: SOCKS5 greeting with 255 methods, RFC 1929 with 255-byte fields,
// a request with a 255-byte name; SOCKS4a with a 255-byte USERID and name, and their NULs.
constexpr std::size_t kMaxSocks5 = (2 + 255) + (2 + 255 + 1 + 255) + (4 + 1 + 255 + 2);
constexpr std::size_t kMaxSocks4 = 8 + (255 + 1) + (255 + 1);

struct Run {
  hc::fuzz::DriveResult result;
  hc::proto::SocksRequest request;
  bool password_accepted = false;
};

Run run(std::uint8_t config, std::span<const std::uint8_t> client) {
  Run r;
  hc::proto::SocksServerOptions options;
  if (config & 1) {
    options.check_password = [&r](std::string_view user, std::string_view password) {
      r.password_accepted = user == kUser && password == kPassword;
      return r.password_accepted;
    };
  }
  options.allow_udp_associate = config & 2;
  options.allow_bind = config & 32;
  const std::size_t chunk = (config >> 2) & 7;  // 0: as asked; else at most 1..7 bytes a time
  SocksServerHandshake codec(options);
  r.result = hc::fuzz::drive(codec, client, chunk);
  r.request = codec.request();
  if (r.result.end == Kind::done) {
    HC_FUZZ_CHECK(codec.leftover().empty());
    // The answers have the size the protocol fixes, whatever the bound address.
    const std::size_t reply_size = r.request.version == SocksVersion::socks5 ? 10 : 8;
    HC_FUZZ_CHECK(codec.reply(hc::proto::kRepSucceeded, {"192.0.2.1", 1080}).size() == reply_size);
    HC_FUZZ_CHECK(codec.reply(hc::proto::kRepSucceeded, {"not-an-ip", 1080}).size() == reply_size);
    HC_FUZZ_CHECK(codec.reply(hc::proto::kRepGeneralFailure).size() == reply_size);
    HC_FUZZ_CHECK(codec.bind_reply(hc::proto::kRepSucceeded, {"192.0.2.1", 1}).size() ==
                  reply_size);
    HC_FUZZ_CHECK(codec.reply(hc::proto::kRepSucceeded, {"2001:db8::1", 1080}).size() ==
                  (r.request.version == SocksVersion::socks5 ? 22 : 8));
  }
  return r;
}

bool printable_name(std::string_view name) {
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return false;
    }
  }
  return true;
}

void check_request(std::uint8_t config, std::uint8_t first, const Run& r) {
  const auto& req = r.request;
  HC_FUZZ_CHECK(!req.target.host.empty() || req.command == hc::proto::SocksCommand::udp_associate);
  HC_FUZZ_CHECK(req.target.host.size() <= 255);
  HC_FUZZ_CHECK(req.target.host.find('\0') == std::string::npos);
  HC_FUZZ_CHECK(req.user.size() <= 255);
  if (first == 5) {
    HC_FUZZ_CHECK(req.version == SocksVersion::socks5);
    HC_FUZZ_CHECK(r.result.consumed <= kMaxSocks5);
  } else {
    HC_FUZZ_CHECK(first == 4);
    HC_FUZZ_CHECK(req.version != SocksVersion::socks5);
    HC_FUZZ_CHECK(r.result.consumed <= kMaxSocks4);
    HC_FUZZ_CHECK(req.command != hc::proto::SocksCommand::udp_associate);
  }
  if (req.version == SocksVersion::socks4a) {
    HC_FUZZ_CHECK(printable_name(req.target.host));
  }
  // With users configured, only a SOCKS5 client that gave the right password gets through.
  if (config & 1) {
    HC_FUZZ_CHECK(req.version == SocksVersion::socks5 && r.password_accepted);
  }
  if (!(config & 2)) {
    HC_FUZZ_CHECK(req.command != hc::proto::SocksCommand::udp_associate);
  }
  if (!(config & 32)) {
    HC_FUZZ_CHECK(req.command != hc::proto::SocksCommand::bind);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::uint8_t config = in.byte();
  // Exact-size copy, so an over-read by the codec is a heap overflow under ASan.
  const std::vector<std::uint8_t> client(in.rest().begin(), in.rest().end());
  const Run first = run(config, client);
  if (first.result.end == Kind::done) {
    check_request(config, client.front(), first);
  }
  if (first.result.end == Kind::fail) {
    (void)first.result.ec.message();
  }
  if (first.result.end != Kind::done && first.result.end != Kind::fail) {
    return 0;  // the client's bytes ran out mid-handshake: what follows would be read too
  }
  // The same bytes with payload pipelined behind them: the codec ends at the same byte, with
  // the same outcome, and the payload stays unread for the relay.
  std::vector<std::uint8_t> longer = client;
  longer.insert(longer.end(), {'P', 'A', 'Y', 'L', 'O', 'A', 'D', 0, '\n'});
  const Run second = run(config, longer);
  HC_FUZZ_CHECK(second.result.end == first.result.end);
  HC_FUZZ_CHECK(second.result.consumed == first.result.consumed);
  HC_FUZZ_CHECK(second.result.ec == first.result.ec);
  HC_FUZZ_CHECK(second.request.target.host == first.request.target.host);
  HC_FUZZ_CHECK(second.request.target.port == first.request.target.port);
  HC_FUZZ_CHECK(second.request.command == first.request.command);
  HC_FUZZ_CHECK(second.request.user == first.request.user);
  return 0;
}
