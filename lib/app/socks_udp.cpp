#include "app/socks_udp.hpp"

#include <cstdio>
#include <optional>
#include <vector>

#include "app/socks_reply.hpp"
#include "log/log.hpp"
#include "transport/deadline.hpp"
#include "transport/first_to_end.hpp"
#include "udp/association.hpp"
#include "udp/socket_owner.hpp"
#include "udp/socks_client.hpp"
#include "udp/strategy.hpp"

namespace hc::app {
namespace {

// After a refusal, how long the client gets to read it and close before we do.
constexpr auto kLingerTime = std::chrono::seconds(2);

std::string hex_byte(std::uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(v));
  return buf;
}

/// The REP for a chain that could not open an association: 0x07 when the chain cannot do UDP at
/// all (a hop without it, or one we refuse), else what a CONNECT failure would get.
std::uint8_t refusal_for(const chain::ChainError& error) {
  if (error.ec.category() == udp::udp_category()) {
    return proto::kRepCommandNotSupported;
  }
  return socks5_reply_for(error);
}

/// with_deadline needs a value.
awaitable<bool> closed_by_client(transport::Stream& client) {
  co_await udp::until_closed(client);
  co_return true;
}

/// Sends `answer`, then FIN and a bounded wait for the client to close: closing at once could
/// turn into a reset that destroys the answer before the client reads it.
awaitable<void> answer_and_close(transport::Stream& client, std::vector<std::uint8_t> answer) {
  co_await client.write_all(answer);
  co_await client.shutdown_send();
  co_await transport::with_deadline(*client.bottom(), kLingerTime, closed_by_client(client));
  client.close();
}

/// Whether `client` may have a relay; if it is on this host, the user it must send as.
struct Admission {
  std::optional<std::uint8_t> refusal;  ///< the REP to answer with instead of a grant
  std::optional<std::uint32_t> uid;
};

Admission admit(const tcp::endpoint& server, const tcp::endpoint& client, std::uint16_t port,
                const Config& config, const std::string& what) {
  const auto peer = udp::normalized({client.address(), 0}).address();
  const auto here = udp::normalized({server.address(), 0}).address();
  switch (
      udp_sender_rule(peer, here, port, !config.socks_users.empty(), config.socks_udp_any_port)) {
    case UdpSenderRule::refuse:
      log::error(what +
                 ": refused (REP 0x02): DST.PORT 0 from another host on a --users server; "
                 "the client must name the port it sends from, or the server be started "
                 "with --udp-any-port");
      return {proto::kRepNotAllowed, std::nullopt};
    case UdpSenderRule::address:
      return {};
    case UdpSenderRule::owner:
      break;
  }
  // The client's end of the connection is `client`, and its peer is us.
  const udp::SocketOwner owner = udp::tcp_socket_owner(client, server);
  if (!owner.found) {
    log::error(what +
               ": refused (REP 0x01): cannot tell which local user the client is, so its "
               "relay would be open to all: " +
               owner.error);
    return {proto::kRepGeneralFailure, std::nullopt};
  }
  return {std::nullopt, owner.uid};
}

/// Answers the request with the refusal `rep`, then closes.
awaitable<void> refuse(transport::Stream& client, const proto::SocksServerHandshake& codec,
                       std::uint8_t rep) {
  // Never a temporary inside a co_await expression: GCC 12 frees it wrongly (reply()'s default
  // HostPort argument did, under ASan).
  std::vector<std::uint8_t> refusal = codec.reply(rep);
  co_await answer_and_close(client, std::move(refusal));
}

/// The socket the client sends its datagrams to, and its address (BND in the grant).
struct ClientSocket {
  asio::ip::udp::socket socket;
  udp::Endpoint bound;
  std::error_code ec;  ///< it could not be opened
};

/// On the address the client reached us at (`here`), so that the client can reach it too.
ClientSocket open_client_socket(const asio::any_io_executor& ex, const asio::ip::address& here) {
  ClientSocket s{asio::ip::udp::socket(ex), {}, {}};
  s.socket.open(here.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), s.ec);
  if (!s.ec) {
    s.socket.bind({here, 0}, s.ec);
  }
  if (!s.ec) {
    s.bound = s.socket.local_endpoint(s.ec);
  }
  if (!s.ec) {
    std::error_code ignored;
    s.socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
  }
  return s;
}

/// The same target rules as CONNECT: an exposed server's datagrams do not reach this host.
void apply_access_rules(udp::SocksClientRelay& relay, const Config& config) {
  if (!config.socks_access.active()) {
    return;
  }
  const AccessPolicy* policy = &config.socks_access;  // config outlives every association
  relay.refuse_host = [policy](const proto::HostPort& target) -> std::optional<std::string> {
    const auto decision = policy->decide_host(target.host);
    return decision && !decision->allowed ? std::optional(decision->reason) : std::nullopt;
  };
  relay.refuse_address = [policy](const asio::ip::address& address) {
    const auto decision = policy->decide(address);
    return decision.allowed ? std::nullopt : std::optional(decision.reason);
  };
}

}  // namespace

UdpSenderRule udp_sender_rule(const asio::ip::address& client, const asio::ip::address& server,
                              std::uint16_t client_port, bool users, bool any_port) {
  if (client.is_loopback() || client == server) {
    return UdpSenderRule::owner;
  }
  return client_port == 0 && users && !any_port ? UdpSenderRule::refuse : UdpSenderRule::address;
}

awaitable<void> serve_udp_associate(transport::Stream& client,
                                    const proto::SocksServerHandshake& codec, std::string who,
                                    const Config& config, chain::Services& services) {
  const std::string what = who + ": SOCKS5 UDP ASSOCIATE";
  const auto& request = codec.request();
  tcp::socket* bottom = client.bottom();
  std::error_code ec;
  const auto local = bottom->local_endpoint(ec);
  const auto peer = bottom->remote_endpoint(ec);

  // 1. Whether this client may have a relay, and who must send to it.
  const Admission admission = admit(local, peer, request.target.port, config, what);
  if (admission.refusal) {
    co_await refuse(client, codec, *admission.refusal);
    co_return;
  }

  // 2. The chain: a client whose datagrams cannot be carried is told so in the reply.
  auto opened = co_await udp::open_association(services.planner->hops(), services);
  if (opened.error) {
    const std::uint8_t rep = refusal_for(*opened.error);
    log::error(what + ": " + opened.error->message() + "; answered REP " + hex_byte(rep));
    co_await refuse(client, codec, rep);
    co_return;
  }

  // 3. A UDP socket for the client's datagrams.
  const auto here = udp::normalized({local.address(), 0}).address();
  const auto ex = co_await asio::this_coro::executor;
  ClientSocket socket = open_client_socket(ex, here);
  if (socket.ec) {
    log::error(what + ": cannot open a UDP socket on " + here.to_string() + ": " +
               socket.ec.message());
    co_await refuse(client, codec, proto::kRepGeneralFailure);
    co_return;
  }

  udp::SocksClientRelay relay(std::move(socket.socket), services);
  relay.client_ip = udp::normalized({peer.address(), 0}).address();
  // RFC 1928 §7: DST.PORT is the port the client will send from, 0 if it does not know yet.
  relay.client_port = request.target.port;
  relay.hops = services.planner->hops();
  relay.association = std::move(opened.association);
  relay.client_uid = admission.uid;
  relay.who = who + ": UDP";
  apply_access_rules(relay, config);
  const proto::HostPort bnd{socket.bound.address().to_string(), socket.bound.port()};

  // 4. The grant, then datagrams until the client closes its TCP connection.
  const std::vector<std::uint8_t> grant = codec.reply(proto::kRepSucceeded, bnd);
  auto [wec, n] = co_await client.write_all(grant);
  if (wec) {
    log::verbose(what + ": client went away before the grant: " + wec.message());
    co_return;
  }
  log::verbose(what + " from " + request.target.to_string() + ": relay " + bnd.to_string() + ", " +
               relay.association->describe());
  // Tasks rather than `||` (the relay has tasks of its own): see transport/first_to_end.hpp.
  std::vector<transport::Task> tasks;
  tasks.emplace_back([&relay] { return udp::relay_socks_client(relay); });
  tasks.emplace_back([&client] { return udp::until_closed(client); });
  co_await transport::first_to_end(tasks);
  if (relay.association) {
    relay.association->close();
  }
  client.close();
  log::verbose(what + ": closed: " + relay.counters.text());
}

}  // namespace hc::app
