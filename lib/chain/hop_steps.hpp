/// The steps of opening a chain that stand on their own: resolving an address for a hop, and
/// putting a TLS session on the stream so far (with the reason a TLS 1.3 server gives late).
/// attempt_chain (chain/chain_attempt.cpp) runs them in order.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ssl/context.hpp>

#include "proto/proxy_url.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"
#include "transport/tls_stream.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::transport {
class DeferredStream;
}

namespace hc::chain {

struct Resolved {
  std::error_code ec;
  std::vector<asio::ip::address> addresses;
};

/// Addresses for `host`: the literal itself, or what the resolver says.
awaitable<Resolved> resolve(dns::Resolver& resolver, std::string host);

/// For hops that take addresses only (socks4, socks5): the address hopchain resolved for `next`.
awaitable<Resolved> resolve_for_hop(dns::Resolver& resolver, const proto::HopSpec& hop,
                                    std::string host);

struct TlsOutcome {
  std::error_code ec;
  std::string detail;
  std::string session;  ///< on success: "TLSv1.3 ..., verified", for the log
  bool early_data_accepted = false;
};

/// Puts a TLS session to `hop` on top of `stream` (the tunnel to it, or hop 1's TCP connection)
/// and runs the handshake under the connect deadline.
awaitable<TlsOutcome> start_tls(std::unique_ptr<transport::Stream>& stream,
                                const proto::HopSpec& hop, asio::ssl::context* context,
                                std::chrono::milliseconds timeout);

/// A TLS hop's session begun before the tunnel to it exists: `hello`, its ClientHello, rides in
/// the same write as the previous hop's request (it depends on nothing the reply says), so the
/// hop costs only its own handshake's round trip.
struct EarlyTls {
  std::optional<TlsOutcome> failure;  ///< the session could not be set up
  std::unique_ptr<transport::TlsStream> session;
  transport::DeferredStream* below = nullptr;  ///< under `session`, until the tunnel is attached
  std::vector<std::uint8_t> hello;             ///< the ClientHello, and the early data if sent
  bool early_sent = false;
};

/// The session for `hop`, named and offered a kept session, with nothing written yet;
/// `bottom`: hop 1's socket.
EarlyTls begin_early_tls(const proto::HopSpec& hop, asio::ssl::context* context,
                         tcp::socket* bottom, const asio::any_io_executor& executor);
/// Its first flight into `early.hello`: the ClientHello, and `early_data` as TLS 1.3 early data
/// when the offered session allows that much (then `early.early_sent`).
void make_first_flight(EarlyTls& early, std::span<const std::uint8_t> early_data);

/// Once the previous hop's reply is in (its hello already sent): puts the session on top of
/// `stream`, the tunnel to the hop, and completes the handshake under the connect deadline.
awaitable<TlsOutcome> finish_early_tls(EarlyTls& early, std::unique_ptr<transport::Stream>& stream,
                                       std::chrono::milliseconds timeout);

/// TLS 1.3 servers reject a client (a missing client certificate) only after the client's
/// handshake has finished: the alert comes with the proxy's first reply, or the connection is
/// reset right after it and our first write sees the reset. The alert is then still queued in
/// the socket; one more read turns "connection reset" into the server's reason.
awaitable<std::error_code> tls_reason(transport::Stream& stream, std::error_code ec,
                                      std::chrono::milliseconds timeout);

}  // namespace hc::chain
