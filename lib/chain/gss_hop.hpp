/// The GSS-API (RFC 1961) part of a SOCKS5 hop with `auth=gssapi`: its greeting (method 0x01
/// alone), the context and protection-level negotiation on the stream so far, then, unless the
/// server selected none, the protection layer on top of that stream, so that the hop's request
/// and everything after it (later hops, the user's data) goes through it. The request itself is
/// an ordinary Socks5Connect (Socks5Part::request) in the hop's batch.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>

#include "chain/services.hpp"
#include "proto/proxy_url.hpp"
#include "transport/stream.hpp"

namespace hc::chain {

struct GssOutcome {
  std::error_code ec;
  proto::Stage stage = proto::Stage::auth;
  std::string detail;
  std::string principal;  ///< on success: the service principal authenticated to
  proto::Protection level = proto::Protection::none;
};

/// `factory` unset: the Kerberos mechanism (transport/gss_krb5.hpp). The whole exchange runs
/// under `timeout`.
awaitable<GssOutcome> start_gssapi(std::unique_ptr<transport::Stream>& stream,
                                   const proto::HopSpec& hop, const GssClientFactory& factory,
                                   std::chrono::milliseconds timeout);

}  // namespace hc::chain
