#include "app/socks_bind.hpp"

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "app/socks_reply.hpp"
#include "chain/bind_at_last_hop.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"

namespace hc::app {
namespace {

/// Ends once the client has hung up (EOF or an error on its socket) while its BIND waits for a
/// peer, closing `hop` so that the wait ends too. Bytes the client sent early are only peeked:
/// they stay for the relay, and the watch then just waits to be cancelled.
awaitable<void> client_gone(tcp::socket& client, tcp::socket& hop) {
  auto [waited] = co_await client.async_wait(tcp::socket::wait_read, nothrow);
  if (waited == asio::error::operation_aborted) {
    co_return;  // the peer came first
  }
  std::uint8_t byte = 0;
  auto [ec, n] =
      co_await client.async_receive(asio::buffer(&byte, 1), tcp::socket::message_peek, nothrow);
  if (ec == asio::error::operation_aborted) {
    co_return;
  }
  if (!ec && n > 0) {
    asio::steady_timer forever(client.get_executor(), std::chrono::steady_clock::time_point::max());
    co_await forever.async_wait(nothrow);
    co_return;
  }
  std::error_code ignored;
  hop.close(ignored);
}

/// Writes one of the two BIND replies; false if the client is gone.
awaitable<bool> send_reply(transport::Stream& client, const proto::SocksServerHandshake& codec,
                           std::uint8_t rep, const proto::HostPort& address,
                           const std::string& what) {
  const std::vector<std::uint8_t> reply = codec.bind_reply(rep, address);
  auto [ec, n] = co_await client.write_all(reply);
  if (ec) {
    log::verbose(what + ": client went away before its BIND reply: " + ec.message());
    co_return false;
  }
  co_return true;
}

/// The first reply: where the hop listens. SOCKS4 has no room for a name.
awaitable<bool> announce(transport::Stream& client, const proto::SocksServerHandshake& codec,
                         const chain::LastHopBind& bind, const std::string& what) {
  const proto::HostPort& at = bind.listening();
  log::verbose(what + ": " + bind.who() + " listens at " + at.to_string() +
               (bind.answered_unspecified().empty()
                    ? std::string()
                    : " (it answered " + bind.answered_unspecified() + ", its own address)"));
  if (codec.request().version != proto::SocksVersion::socks5 && !proto::is_ipv4_literal(at.host)) {
    log::info(what + ": the hop listens at " + at.to_string() +
              ", which a SOCKS4 reply cannot name: told 0.0.0.0 (the server's own address)");
  }
  co_return co_await send_reply(client, codec, proto::kRepSucceeded, at, what);
}

/// The relay between the client and the peer the hop accepted, with its statistics line.
awaitable<void> relay_peer(transport::Stream& client, chain::LastHopBind& bind,
                           const std::string& what, ServerStats& totals) {
  ConnectionStats report(what, totals);
  report.relaying();
  relay::RelayOptions options = relay::relay_options_from_environment();
  options.live = report.live();
  const relay::RelayStats stats = co_await relay::relay(client, bind.stream(), options);
  report.closed(stats);
}

}  // namespace

awaitable<void> serve_socks_bind(transport::Stream& client,
                                 const proto::SocksServerHandshake& codec, const std::string& what,
                                 const Config& config, chain::Services& services,
                                 ServerStats& totals) {
  const chain::Hops& hops = services.planner->hops();
  if (auto refusal = chain::bind_refusal(hops)) {
    co_await refuse_request(client, codec, what + ": " + *refusal, proto::kRepCommandNotSupported);
    co_return;
  }
  auto bind = co_await chain::LastHopBind::open(hops, services, codec.request().target);
  if (!bind) {
    const chain::ChainError& e = bind.error();
    const bool unsupported = chain::bind_unsupported(e);
    co_await refuse_request(client, codec, what + ": " + e.message(),
                            unsupported ? proto::kRepCommandNotSupported : socks5_reply_for(e));
    co_return;
  }
  if (!co_await announce(client, codec, *bind, what)) {
    co_return;
  }
  using namespace asio::experimental::awaitable_operators;
  auto waited = co_await (bind->accept(config.accept_timeout) ||
                          client_gone(*client.bottom(), *bind->stream().bottom()));
  if (waited.index() == 1) {
    log::verbose(what + ": the client hung up while waiting for the peer");
    co_return;
  }
  auto& peer = std::get<0>(waited);
  if (!peer) {
    // The second reply carries the failure; the client closes on it.
    log::error(what + ": " + peer.error().message());
    co_await send_reply(client, codec, socks5_reply_for(peer.error()), {}, what);
    co_return;
  }
  log::verbose(what + ": " + peer->to_string() + " connected to " + bind->listening().to_string());
  if (co_await send_reply(client, codec, proto::kRepSucceeded, *peer, what)) {
    co_await relay_peer(client, *bind, what, totals);
  }
}

}  // namespace hc::app
