#include "chain/hop_steps.hpp"

#include <algorithm>

#include "chain/chain_error.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "transport/deadline.hpp"
#include "transport/deferred_stream.hpp"
#include "transport/tls_stream.hpp"

namespace hc::chain {

using log::seconds_text;

awaitable<Resolved> resolve(dns::Resolver& resolver, std::string host) {
  auto [ec, addresses] = co_await resolver.resolve(std::move(host));
  if (!ec && addresses.empty()) {
    ec = ChainErrc::no_address;
  }
  co_return Resolved{ec, std::move(addresses)};
}

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

namespace {

std::string tls_name(const proto::HopSpec& hop) {
  return hop.tls_options.sni.empty() ? hop.server.host : hop.tls_options.sni;
}

awaitable<TlsOutcome> complete_handshake(transport::Stream& stream, transport::TlsStream& session,
                                         std::chrono::milliseconds timeout) {
  auto result = co_await transport::with_deadline(*stream.bottom(), timeout, session.handshake());
  if (!result) {
    co_return TlsOutcome{ChainErrc::timed_out, "no answer within " + seconds_text(timeout), {}};
  }
  if (result->ec) {
    co_return TlsOutcome{result->ec, std::move(result->detail), {}};
  }
  co_return TlsOutcome{{}, {}, session.describe()};
}

}  // namespace

awaitable<TlsOutcome> start_tls(std::unique_ptr<transport::Stream>& stream,
                                const proto::HopSpec& hop, asio::ssl::context* context,
                                std::chrono::milliseconds timeout) {
  if (context == nullptr) {
    co_return TlsOutcome{transport::TlsErrc::setup_failed, "no TLS context for this hop", {}};
  }
  const auto executor = co_await asio::this_coro::executor;
  auto tls_stream = std::make_unique<transport::TlsStream>(std::move(stream), *context, executor);
  transport::TlsStream& session = *tls_stream;
  stream = std::move(tls_stream);
  const transport::TlsHandshakeResult named =
      session.set_peer(tls_name(hop), hop.server.to_string());
  if (named.ec) {
    co_return TlsOutcome{named.ec, named.detail, {}};
  }
  co_return co_await complete_handshake(*stream, session, timeout);
}

EarlyTls begin_early_tls(const proto::HopSpec& hop, asio::ssl::context* context,
                         tcp::socket* bottom, const asio::any_io_executor& executor) {
  EarlyTls out;
  if (context == nullptr) {
    out.failure = TlsOutcome{transport::TlsErrc::setup_failed, "no TLS context for this hop", {}};
    return out;
  }
  auto below = std::make_unique<transport::DeferredStream>(bottom);
  out.below = below.get();
  out.session = std::make_unique<transport::TlsStream>(std::move(below), *context, executor);
  const transport::TlsHandshakeResult named =
      out.session->set_peer(tls_name(hop), hop.server.to_string());
  if (named.ec) {
    out.failure = TlsOutcome{named.ec, named.detail, {}};
  }
  return out;
}

void make_first_flight(EarlyTls& early, std::span<const std::uint8_t> early_data) {
  transport::TlsStream::FirstFlight flight = early.session->first_flight(early_data);
  if (flight.ec) {
    early.failure = TlsOutcome{flight.ec, "cannot make the ClientHello", {}};
    return;
  }
  early.hello = std::move(flight.bytes);
  early.early_sent = flight.early_sent;
}

awaitable<TlsOutcome> finish_early_tls(EarlyTls& early, std::unique_ptr<transport::Stream>& stream,
                                       std::chrono::milliseconds timeout) {
  early.below->attach(std::move(stream));
  transport::TlsStream& session = *early.session;
  stream = std::move(early.session);
  TlsOutcome outcome = co_await complete_handshake(*stream, session, timeout);
  outcome.early_data_accepted = early.early_sent && !outcome.ec && session.early_data_accepted();
  co_return outcome;
}

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

}  // namespace hc::chain
