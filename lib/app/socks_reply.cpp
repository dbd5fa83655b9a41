/// Chain failures to SOCKS5 reply codes.
#include "app/socks_reply.hpp"

#include "proto/errors.hpp"
#include "proto/socks_server.hpp"
#include "transport/asio.hpp"

namespace hc::app {

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

}  // namespace hc::app
