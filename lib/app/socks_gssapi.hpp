/// The GSS-API method (RFC 1961) of `hopchain socks --gssapi-keytab`: once a client was answered
/// method 0x01, its context establishment and protection-level negotiation (the level is the
/// lower of what it asks for and --gssapi-max-protection), then, unless that is none, its stream
/// wrapped in the protection layer: the request and the relayed data go through it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "transport/stream.hpp"

namespace hc::app {

struct GssClient {
  /// The client's stream as the request and the relay must use it (it borrows `client`).
  std::unique_ptr<transport::Stream> stream;
  std::string principal;  ///< the authenticated client, for log lines
  proto::Protection level = proto::Protection::none;
};

/// Negotiates with the client within `time_left`; nullopt when it failed (logged, with the abort
/// message sent where RFC 1961 has one). `who` starts the log lines. `client` must outlive the
/// result.
awaitable<std::optional<GssClient>> accept_gssapi(transport::Stream& client,
                                                  const GssapiServerSettings& settings,
                                                  const std::string& who,
                                                  std::chrono::steady_clock::duration time_left);

/// Whether the keytab gives an acceptor credential: "" or why not, checked once at startup.
std::string check_gssapi_keytab(const GssapiServerSettings& settings);

}  // namespace hc::app
