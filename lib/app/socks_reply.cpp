/// Chain failures to SOCKS5 reply codes.
#include "app/socks_reply.hpp"

#include <cstdio>
#include <vector>

#include "app/linger_close.hpp"
#include "log/log.hpp"
#include "proto/errors.hpp"
#include "proto/socks_server.hpp"
#include "transport/asio.hpp"

namespace hc::app {
namespace {

std::string hex_byte(std::uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(v));
  return buf;
}

}  // namespace

std::uint8_t socks5_reply_for(const chain::ChainError& error) {
  const std::error_code& ec = error.ec;
  if (ec.category() == proto::socks5_reply_category() && ec.value() > 0 && ec.value() <= 0xFF) {
    return static_cast<std::uint8_t>(ec.value());
  }
  if (ec == chain::ChainErrc::not_allowed || ec == chain::ChainErrc::own_listener) {
    // Refused by this server's rules, or a proxy loop wherever it was found.
    return proto::kRepNotAllowed;
  }
  // A hop that failed without a REP (down, bad credentials, an HTTP status) says nothing about
  // the target, so only a direct connection's errors are translated.
  if (error.hop != 0) {
    return proto::kRepGeneralFailure;
  }
  if (error.stage == proto::Stage::resolve || ec == asio::error::host_unreachable ||
      ec == chain::ChainErrc::no_address) {
    return proto::kRepHostUnreachable;
  }
  if (ec == asio::error::connection_refused) {
    return proto::kRepConnectionRefused;
  }
  if (ec == asio::error::network_unreachable) {
    return proto::kRepNetworkUnreachable;
  }
  if (ec == asio::error::timed_out || ec == chain::ChainErrc::timed_out) {
    return proto::kRepTtlExpired;
  }
  return proto::kRepGeneralFailure;
}

awaitable<void> refuse_request(transport::Stream& client, const proto::SocksServerHandshake& codec,
                               const std::string& line, std::uint8_t rep) {
  log::error(line + "; answered " +
             (codec.request().version == proto::SocksVersion::socks5 ? "REP " + hex_byte(rep)
                                                                     : std::string("CD 0x5B")));
  // Named, not a temporary in the co_await: g++ 12 destroys reply()'s default argument twice there.
  const std::vector<std::uint8_t> answer = codec.reply(rep);
  co_await client.write_all(answer);
  co_await close_after_answer(client);
}

}  // namespace hc::app
