/// The HTTP proxy side of `hopchain socks` ("mixed" mode): a client whose first byte is a letter
/// speaks HTTP to the same port. CONNECT opens a tunnel through the chain; absolute-form requests
/// ("GET http://host/path HTTP/1.1") are forwarded in origin-form on a persistent connection,
/// with keep-alive per target (app/http_forward.hpp). Admission, the target rules, the handshake
/// deadline and the login throttle are the SOCKS server's; every request is authorized.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "app/config.hpp"
#include "app/stats.hpp"
#include "chain/open_chain.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// What the SOCKS server lends an HTTP client.
struct HttpClientContext {
  const Config& config;
  chain::Services& services;
  ServerStats& totals;
  std::string who;                                   ///< "socks client 127.0.0.1:40000"
  std::chrono::steady_clock::duration head_timeout;  ///< what is left of the handshake deadline
  std::function<bool()> evicted;                     ///< closed to make room for another source
  std::function<void()> handshake_over;              ///< the request is read and authorized
  std::function<void()> auth_failed;                 ///< wrong credentials: counts for the throttle
};

/// True for a byte an HTTP request can start with (a method's first letter); SOCKS starts with
/// 0x04 or 0x05.
bool starts_http_request(std::uint8_t first_byte);

/// Reads the first byte without consuming it; nullopt at EOF or on an error.
awaitable<std::optional<std::uint8_t>> peek_first_byte(tcp::socket& socket);

/// Serves one HTTP proxy client to its end: one CONNECT tunnel, or forwarded requests until the
/// connection ends.
awaitable<void> serve_http_client(transport::TcpStream& client, HttpClientContext context);

}  // namespace hc::app
