#include "chain/open_chain.hpp"

#include <algorithm>
#include <string>

#include "chain/handshake.hpp"
#include "chain/tls_contexts.hpp"
#include "dns/resolver.hpp"
#include "log/log.hpp"
#include "proto/http_connect.hpp"
#include "proto/socks4.hpp"
#include "proto/socks5.hpp"
#include "transport/connect.hpp"
#include "transport/deadline.hpp"
#include "transport/prefixed_stream.hpp"
#include "transport/tls_stream.hpp"

namespace hc::chain {
namespace {

using Clock = std::chrono::steady_clock;

/// "12.3 ms": loopback hops take well under a millisecond, so keep a decimal.
std::string ms_since(Clock::time_point start) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  const long long tenths = (us.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " ms";
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + " s";
  }
  return std::to_string(d.count()) + " ms";
}

struct Resolved {
  std::error_code ec;
  std::vector<asio::ip::address> addresses;
};

/// Addresses for `host`: the literal itself, or what the resolver says.
awaitable<Resolved> resolve(dns::Resolver& resolver, std::string host) {
  auto [ec, addresses] = co_await resolver.resolve(std::move(host));
  if (!ec && addresses.empty()) {
    ec = ChainErrc::no_address;
  }
  co_return Resolved{ec, std::move(addresses)};
}

/// For hops that take addresses only (socks4, socks5): the address hopchain resolved for `next`.
awaitable<Resolved> resolve_for_hop(dns::Resolver& resolver, const proto::HopSpec& hop,
                                    std::string host) {
  Resolved r = co_await resolve(resolver, std::move(host));
  if (r.ec || hop.protocol != proto::Protocol::socks4) {
    co_return r;
  }
  // SOCKS4 carries IPv4 only.
  std::erase_if(r.addresses, [](const asio::ip::address& a) { return !a.is_v4(); });
  if (r.addresses.empty()) {
    r.ec = ChainErrc::no_ipv4_address;
  }
  co_return r;
}

struct TlsOutcome {
  std::error_code ec;
  std::string detail;
};

/// Puts a TLS session to `hop` on top of `stream` (the tunnel to it, or hop 1's TCP connection)
/// and runs the handshake under the connect deadline.
awaitable<TlsOutcome> start_tls(std::unique_ptr<transport::Stream>& stream,
                                const proto::HopSpec& hop, asio::ssl::context* context,
                                std::chrono::milliseconds timeout, std::string label) {
  if (context == nullptr) {
    co_return TlsOutcome{transport::TlsErrc::setup_failed, "no TLS context for this hop"};
  }
  const auto started = Clock::now();
  if (hop.tls_options.insecure) {
    log::info("warning: " + label + ": TLS certificate and host name NOT verified (insecure=1)");
  }
  const auto executor = co_await asio::this_coro::executor;
  auto tls_stream = std::make_unique<transport::TlsStream>(std::move(stream), *context, executor);
  transport::TlsStream& session = *tls_stream;
  stream = std::move(tls_stream);
  std::string name = hop.tls_options.sni.empty() ? hop.server.host : hop.tls_options.sni;
  auto result =
      co_await transport::with_deadline(*stream->bottom(), timeout, session.handshake(name));
  if (!result) {
    co_return TlsOutcome{ChainErrc::timed_out, "no answer within " + seconds_text(timeout)};
  }
  if (result->ec) {
    co_return TlsOutcome{result->ec, std::move(result->detail)};
  }
  log::verbose(label + ": " + session.describe() + " in " + ms_since(started));
  co_return TlsOutcome{};
}

/// TLS 1.3 servers reject a client (a missing client certificate) only after the client's
/// handshake has finished: the alert comes with the proxy's first reply, or the connection is
/// reset right after it and our first write sees the reset. The alert is then still queued in
/// the socket; one more read turns "connection reset" into the server's reason.
awaitable<std::error_code> tls_reason(transport::Stream& stream, std::error_code ec,
                                      std::chrono::milliseconds timeout) {
  const bool connection_lost = ec == asio::error::connection_reset ||
                               ec == asio::error::broken_pipe ||
                               ec == ChainErrc::closed_during_handshake;
  if (!connection_lost || dynamic_cast<transport::TlsStream*>(&stream) == nullptr) {
    co_return ec;
  }
  std::uint8_t byte = 0;
  auto read = co_await transport::with_deadline(*stream.bottom(),
                                                std::min(timeout, std::chrono::milliseconds(1000)),
                                                stream.read_some({&byte, 1}));
  if (read && transport::is_tls_error(std::get<0>(*read))) {
    co_return std::get<0>(*read);
  }
  co_return ec;
}

}  // namespace

std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next) {
  switch (hop.protocol) {
    case proto::Protocol::socks4:
      return std::make_unique<proto::Socks4Connect>(next, hop.user.value_or(""), hop.remote_dns);
    case proto::Protocol::socks5:
      return std::make_unique<proto::Socks5Connect>(next, hop.credentials());
    case proto::Protocol::http:
      return std::make_unique<proto::HttpConnect>(next, hop.credentials());
  }
  return nullptr;
}

awaitable<ChainResult> open_chain(std::vector<proto::HopSpec> hops, proto::HostPort target,
                                  Services& services) {
  const std::size_t count = hops.size();
  auto fail = [&](std::size_t hop, proto::Stage stage, std::error_code ec, std::string detail) {
    ChainError e;
    e.hop = hop;
    e.hops = count;
    e.where = hop == 0 ? target.to_string() : hops[hop - 1].redacted();
    e.stage = stage;
    e.ec = ec;
    e.detail = std::move(detail);
    return ChainResult{nullptr, std::move(e)};
  };
  auto label = [&](std::size_t hop) {
    return "hop " + std::to_string(hop) + "/" + std::to_string(count) + " " +
           hops[hop - 1].redacted();
  };

  // 1. The first TCP connection: to hop 1, or to the target when there is no hop.
  const proto::HostPort first = count > 0 ? hops[0].server : target;
  const std::size_t first_hop = count > 0 ? 1 : 0;
  auto started = Clock::now();
  Resolved first_addresses = co_await resolve(services.resolver, first.host);
  if (first_addresses.ec) {
    co_return fail(first_hop, proto::Stage::resolve, first_addresses.ec, first.host);
  }
  tcp::socket socket(co_await asio::this_coro::executor);
  std::error_code ec = co_await transport::connect_any(socket, first_addresses.addresses,
                                                       first.port, services.connect_timeout);
  if (ec) {
    co_return fail(first_hop, proto::Stage::connect, ec,
                   ec == asio::error::timed_out
                       ? "no answer within " + seconds_text(services.connect_timeout)
                       : "");
  }
  if (log::enabled(log::Level::verbose)) {
    std::error_code ignored;
    const auto peer = socket.remote_endpoint(ignored);
    log::verbose((first_hop ? label(1) : "target " + first.to_string()) + ": connected to " +
                 peer.address().to_string() + " in " + ms_since(started));
  }
  std::unique_ptr<transport::Stream> stream =
      std::make_unique<transport::TcpStream>(std::move(socket));

  // Contexts come from startup; a caller that did not build them gets them built here.
  std::unique_ptr<TlsContexts> own_tls;
  const TlsContexts* tls = services.tls;
  if (tls == nullptr &&
      std::any_of(hops.begin(), hops.end(), [](const proto::HopSpec& h) { return h.tls; })) {
    own_tls = std::make_unique<TlsContexts>();
    if (auto error = own_tls->build(hops, {})) {
      co_return fail(error->hop, proto::Stage::tls, transport::TlsErrc::setup_failed,
                     error->message);
    }
    tls = own_tls.get();
  }

  // 2. Each hop's handshake runs through the tunnel built so far.
  for (std::size_t i = 0; i < count; ++i) {
    const proto::HopSpec& hop = hops[i];
    proto::HostPort next = i + 1 < count ? hops[i + 1].server : target;
    if (hop.tls) {
      auto tls_outcome =
          co_await start_tls(stream, hop, tls->for_hop(i), services.connect_timeout, label(i + 1));
      if (tls_outcome.ec) {
        co_return fail(i + 1, proto::Stage::tls, tls_outcome.ec, tls_outcome.detail);
      }
    }
    started = Clock::now();
    if (!hop.remote_dns && !proto::is_ipv4_literal(next.host) &&
        !proto::is_ipv6_literal(next.host)) {
      Resolved r = co_await resolve_for_hop(services.resolver, hop, next.host);
      if (r.ec) {
        co_return fail(i + 1, proto::Stage::resolve, r.ec, next.host);
      }
      log::verbose(label(i + 1) + ": resolved " + next.host + " to " +
                   r.addresses.front().to_string() + " here (the scheme takes addresses)");
      next.host = r.addresses.front().to_string();
    }
    auto codec = make_handshake(hop, next);
    proto::Stage stage = proto::Stage::auth;
    auto outcome = co_await transport::with_deadline(*stream->bottom(), services.connect_timeout,
                                                     run_handshake(*stream, *codec, stage));
    if (!outcome) {
      co_return fail(i + 1, stage, ChainErrc::timed_out,
                     "no answer within " + seconds_text(services.connect_timeout));
    }
    if (*outcome) {
      std::error_code reason = *outcome;
      if (hop.tls) {
        reason = co_await tls_reason(*stream, reason, services.connect_timeout);
        if (transport::is_tls_error(reason)) {
          stage = proto::Stage::tls;
        }
      }
      co_return fail(i + 1, stage, reason, codec->detail());
    }
    log::verbose(label(i + 1) + ": tunnel to " + next.to_string() + " open in " +
                 ms_since(started));
    const auto leftover = codec->leftover();
    if (!leftover.empty()) {
      // Payload that came glued to the reply (an SSH banner, say): it belongs to the user.
      stream = std::make_unique<transport::PrefixedStream>(
          std::move(stream), std::vector<std::uint8_t>(leftover.begin(), leftover.end()));
    }
  }
  co_return ChainResult{std::move(stream), std::nullopt};
}

}  // namespace hc::chain
