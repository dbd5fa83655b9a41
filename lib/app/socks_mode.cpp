/// `hopchain socks [BIND:]PORT`: a local SOCKS4/4a/5 server whose upstream is the chain. Each
/// client gets the server-side codec (bounded by the connect timeout), then a fresh chain to the
/// address it asked for, then its answer and the relay.
#include <array>
#include <cstdint>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <vector>

#include "app/access_rules.hpp"
#include "app/granted_tunnel.hpp"
#include "app/handshake_limits.hpp"
#include "app/http_proxy_front.hpp"
#include "app/linger_close.hpp"
#include "app/listener.hpp"
#include "app/modes.hpp"
#include "app/socks_bind.hpp"
#include "app/socks_gssapi.hpp"
#include "app/socks_reply.hpp"
#include "app/socks_udp.hpp"
#include "app/stats.hpp"
#include "app/tunnel_session.hpp"
#include "app/users_file.hpp"
#include "chain/handshake.hpp"
#include "chain/strategy.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/socks_server.hpp"
#include "relay/relay.hpp"
#include "transport/deadline.hpp"

namespace hc::app {
namespace {

using log::seconds_text;

/// Client-chosen text (a user name) made safe for a log line, and kept short.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '\\' || c == '\'') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  if (text.size() > 64) {
    out += "...";
  }
  return out;
}

/// "SOCKS5 CONNECT example.org:80 as 'alice'". Names were checked by the codec (no control
/// bytes or spaces); a SOCKS4 USERID was not.
std::string describe(const proto::SocksRequest& request) {
  const char* command = request.command == proto::SocksCommand::bind ? " BIND " : " CONNECT ";
  std::string s =
      std::string(proto::to_string(request.version)) + command + request.target.to_string();
  if (!request.user.empty()) {
    s += " as '" + printable(request.user) + "'";
  }
  return s;
}

class HandshakeSlot;

/// What the connections of one server share. Each connection's task holds it, so it outlives the
/// listener however the event loop is torn down.
struct SocksServer {
  const Config& config;
  chain::Services services;  // with the target rules for direct connections
  ServerStats& totals;
  std::string label;  // "socks 127.0.0.1:1080"
  HandshakeLimits limits;
  /// The connections in handshake by source (source_of), oldest first: whom to evict.
  std::map<asio::ip::address, std::list<HandshakeSlot*>> in_handshake = {};
};

/// Counts a connection as in its handshake until release() or the end of its task, or until
/// the limits evict it to make room for another source (its socket is closed then).
class HandshakeSlot {
 public:
  HandshakeSlot(std::shared_ptr<SocksServer> server, asio::ip::address peer, tcp::socket& socket)
      : server_(std::move(server)), peer_(peer), source_(source_of(peer)), socket_(&socket) {
    auto& list = server_->in_handshake[source_];
    position_ = list.insert(list.end(), this);
  }
  HandshakeSlot(const HandshakeSlot&) = delete;
  HandshakeSlot& operator=(const HandshakeSlot&) = delete;
  ~HandshakeSlot() { release(); }

  void release() {
    if (held_) {
      unlist();
      server_->limits.finished(peer_);
    }
  }
  bool evicted() const { return evicted_; }

  /// Closes the oldest handshake of `source`, which the limits have already counted out.
  static void evict_oldest(SocksServer& server, const asio::ip::address& source) {
    const auto it = server.in_handshake.find(source);
    if (it == server.in_handshake.end() || it->second.empty()) {
      return;
    }
    HandshakeSlot* victim = it->second.front();
    victim->unlist();
    victim->evicted_ = true;
    std::error_code ignored;
    victim->socket_->close(ignored);  // its handshake fails at once and its task ends
  }

 private:
  void unlist() {
    held_ = false;
    auto it = server_->in_handshake.find(source_);
    it->second.erase(position_);
    if (it->second.empty()) {
      server_->in_handshake.erase(it);
    }
  }

  std::shared_ptr<SocksServer> server_;
  asio::ip::address peer_;
  asio::ip::address source_;
  tcp::socket* socket_;
  std::list<HandshakeSlot*>::iterator position_;
  bool held_ = true;
  bool evicted_ = false;
};

/// The handshake limits on a new connection: false when it was closed. Closed before a byte is
/// read, a connection over a limit costs the server nothing more.
bool admit_client(SocksServer& server, tcp::socket& accepted, const asio::ip::address& peer) {
  const auto admission = server.limits.admit(peer, HandshakeLimits::Clock::now());
  if (admission.log_line) {
    log::error(server.label + ": " + *admission.log_line);
  }
  if (admission.verdict != HandshakeLimits::Verdict::admitted) {
    std::error_code ignored;
    accepted.close(ignored);
    return false;
  }
  if (admission.evict) {
    HandshakeSlot::evict_oldest(server, *admission.evict);
  }
  return true;
}

/// The codec's options for a client from `peer`. A failed login counts against the peer's source
/// at once, before the refusal is written: the client cannot be back before its cooldown starts.
proto::SocksServerOptions server_options(SocksServer& server, const asio::ip::address& peer) {
  proto::SocksServerOptions options;
  options.allow_udp_associate = true;  // carried through the chain: app/socks_udp
  options.allow_bind = true;           // at the chain's last hop: app/socks_bind
  options.offer_gssapi = !server.config.socks_gssapi.keytab.empty();
  if (!server.config.socks_users.empty()) {
    // Not a coroutine: a plain callback, and the connection's task holds `server`.
    options.check_password = [&server, peer](std::string_view user, std::string_view password) {
      if (check_user(server.config.socks_users, user, password)) {
        return true;
      }
      if (auto line = server.limits.auth_failed(peer, HandshakeLimits::Clock::now())) {
        log::error(server.label + ": " + *line);
      }
      return false;
    };
  }
  return options;
}

/// The client's greeting, authentication and request, bounded like a hop's handshake (a client
/// that connects and sends nothing must not hold a connection forever). False when it failed
/// and the client was answered, logged and closed as it deserved.
awaitable<bool> client_handshake(transport::Stream& client, proto::SocksServerHandshake& codec,
                                 const SocksServer& server, const HandshakeSlot& slot,
                                 const std::string& who,
                                 std::chrono::steady_clock::duration time_left) {
  const Config& config = server.config;
  proto::Stage stage = proto::Stage::auth;
  const auto outcome = co_await transport::with_deadline(
      *client.bottom(), time_left, chain::run_handshake(client, codec, stage));
  if (!outcome) {
    log::error(who + ": " + std::string(proto::to_string(stage)) +
               ": timed out: no complete request within " + seconds_text(config.connect_timeout));
    co_return false;
  }
  if (slot.evicted()) {
    log::verbose(who + ": closed in its handshake to make room for another source");
    co_return false;
  }
  if (*outcome == chain::ChainErrc::closed_during_handshake) {
    log::verbose(who + ": closed the connection before completing its request");
    co_return false;
  }
  if (*outcome) {
    std::string message = who + ": " + std::string(proto::to_string(stage)) + ": ";
    if (!codec.request().user.empty()) {
      message += "user '" + printable(codec.request().user) + "': ";
    }
    message += outcome->message();
    log::error(message);
    co_await close_after_answer(client);
    co_return false;
  }
  co_return true;
}

/// What an HTTP client on the SOCKS port shares with the SOCKS clients: limits and rules.
HttpClientContext http_context(SocksServer& server, HandshakeSlot& slot,
                               const asio::ip::address& peer, const std::string& who,
                               std::chrono::steady_clock::duration time_left) {
  return HttpClientContext{
      server.config,
      server.services,
      server.totals,
      who,
      time_left,
      [&slot] { return slot.evicted(); },
      [&slot] { slot.release(); },
      [&server, peer] {
        if (auto line = server.limits.auth_failed(peer, HandshakeLimits::Clock::now())) {
          log::error(server.label + ": " + *line);
        }
      }};
}

awaitable<void> serve_request(transport::Stream& client, proto::SocksServerHandshake& codec,
                              std::shared_ptr<SocksServer> server, chain::Services& services,
                              const std::string& who);

/// A client that chose GSS-API: RFC 1961, then its request through the protection layer (no
/// UDP ASSOCIATE: RFC 1961 datagram encapsulation is not served), within what is left of its
/// handshake time.
awaitable<void> serve_gssapi_client(transport::Stream& client, std::shared_ptr<SocksServer> server,
                                    HandshakeSlot& slot, chain::Services& services,
                                    const std::string& who,
                                    std::chrono::steady_clock::time_point deadline) {
  const auto left = [deadline] { return deadline - std::chrono::steady_clock::now(); };
  auto accepted = co_await accept_gssapi(client, server->config.socks_gssapi, who, left());
  if (!accepted || slot.evicted()) {
    co_return;
  }
  proto::SocksServerOptions options;
  options.request_only = true;
  options.user = accepted->principal;
  proto::SocksServerHandshake codec(std::move(options));
  if (!co_await client_handshake(*accepted->stream, codec, *server, slot, who, left())) {
    co_return;
  }
  slot.release();
  co_await serve_request(*accepted->stream, codec, server, services, who);
}

/// One client: handshake, chain, answer, relay. Failures end this client only.
awaitable<void> serve_client(tcp::socket accepted, std::shared_ptr<SocksServer> server) {
  const Config& config = server->config;
  std::error_code ignored;
  const auto peer = accepted.remote_endpoint(ignored);
  if (ignored) {
    co_return;  // reset while queued
  }
  if (!admit_client(*server, accepted, peer.address())) {
    co_return;
  }
  // Its own Services: the tag its chain's log lines carry, like this client's own lines.
  chain::Services services = server->services;
  services.log_tag = log::next_connection_tag();
  const std::string who = services.log_tag + "socks client " +
                          proto::HostPort{peer.address().to_string(), peer.port()}.to_string();
  accepted.set_option(tcp::no_delay(true), ignored);
  transport::TcpStream client(std::move(accepted));
  HandshakeSlot slot(server, peer.address(), *client.bottom());

  // 1. Greeting, authentication and request; a letter first is an HTTP proxy client instead.
  const auto started = std::chrono::steady_clock::now();
  const auto first = co_await transport::with_deadline(*client.bottom(), config.connect_timeout,
                                                       peek_first_byte(*client.bottom()));
  const auto time_left = config.connect_timeout - (std::chrono::steady_clock::now() - started);
  if (!first) {
    log::error(who + ": " + std::string(proto::to_string(proto::Stage::auth)) +
               ": timed out: no complete request within " + seconds_text(config.connect_timeout));
    co_return;
  }
  if (*first && starts_http_request(**first)) {
    co_await serve_http_client(client, http_context(*server, slot, peer.address(), who, time_left));
    co_return;
  }
  proto::SocksServerHandshake codec(server_options(*server, peer.address()));
  if (!co_await client_handshake(client, codec, *server, slot, who, time_left)) {
    co_return;
  }
  if (codec.gssapi()) {
    co_await serve_gssapi_client(client, server, slot, services, who,
                                 started + config.connect_timeout);
    co_return;
  }
  slot.release();
  co_await serve_request(client, codec, server, services, who);
}

/// The request of a client whose handshake went through: a UDP relay, or a tunnel.
awaitable<void> serve_request(transport::Stream& client, proto::SocksServerHandshake& codec,
                              std::shared_ptr<SocksServer> server, chain::Services& services,
                              const std::string& who) {
  const Config& config = server->config;
  // 2. A fresh chain to what the client asked for; names go on unresolved where the hop allows.
  const proto::SocksRequest& request = codec.request();
  if (request.command == proto::SocksCommand::udp_associate) {
    co_await serve_udp_associate(client, codec, who, config, services);
    co_return;
  }
  const std::string what = who + ": " + describe(request);
  log::verbose(what);
  if (request.command == proto::SocksCommand::bind) {
    co_await serve_socks_bind(client, codec, what, config, services, server->totals);
    co_return;
  }
  // Addresses and localhost are judged now; other names once resolved (no hop, by
  // Services::target_check) or not at all (the last hop resolves them).
  if (const auto decision = config.socks_access.decide_host(request.target.host);
      decision && !decision->allowed) {
    co_await refuse_request(
        client, codec, what + ": not allowed: " + request.target.host + " is " + decision->reason,
        proto::kRepNotAllowed);
    co_return;
  }
  // 3. The grant, then the relay. BND is our end of the chain's first connection: on a direct
  // connection that is exactly the address RFC 1928 asks for; through hops nothing better is known.
  const GrantBytes grant = [&codec](transport::Stream& remote) {
    proto::HostPort bound;
    if (tcp::socket* bottom = remote.bottom()) {
      std::error_code ec;
      const auto local = bottom->local_endpoint(ec);
      if (!ec) {
        bound = {local.address().to_string(), local.port()};
      }
    }
    return codec.reply(proto::kRepSucceeded, bound);
  };
  const TunnelOutcome tunnel =
      co_await grant_then_relay(client, client, services.planner->hops(), request.target, services,
                                server->totals, what, grant);
  if (tunnel.chain.error && !tunnel.opened) {
    co_await refuse_request(client, codec, what + ": " + tunnel.chain.error->message(),
                            socks5_reply_for(*tunnel.chain.error));
  }
}

HandshakeLimitsOptions limits_options() {
  HandshakeLimitsOptions options;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    options.max_total = default_max_handshakes(limit.rlim_cur);
  } else {
    options.max_total = default_max_handshakes(1U << 20);
  }
  return options;
}

std::shared_ptr<SocksServer> make_server(const Config& config, chain::Services& services,
                                         ServerStats& totals) {
  auto server = std::make_shared<SocksServer>(
      SocksServer{config, services, totals, "socks " + listen_text(config.socks_listen),
                  HandshakeLimits(limits_options())});
  // Only without hops: then every open_chain of this server connects to a client's target. Through
  // hops the first connection goes to hop 1 (also for UDP associations and pipelining probes),
  // which the rules are not about; the names a hop resolves are out of reach anyway.
  if (config.socks_access.active() && config.hops.empty()) {
    const AccessPolicy* policy = &config.socks_access;  // config outlives every connection
    server->services.target_check =
        [policy](const asio::ip::address& address) -> std::optional<std::string> {
      AccessDecision decision = policy->decide(address);
      if (decision.allowed) {
        return std::nullopt;
      }
      return std::move(decision.reason);
    };
  }
  return server;
}

std::string access_text(const Config& config) {
  const AccessPolicy& policy = config.socks_access;
  std::string text = policy.refuse_local ? "refusing this host's loopback and link-local targets"
                                         : "local targets allowed";
  if (!policy.rules.empty()) {
    text += ", " + std::to_string(policy.rules.size()) + " --allow/--deny rule(s) first";
  }
  return text;
}

/// Not a coroutine: a frame of its own, holding the shared server in a lambda built inside a
/// co_await expression, had GCC 12 destroy that shared_ptr twice when the io_context was torn
/// down at exit (ASan: heap-use-after-free). accept_connections' own frame owns everything.
awaitable<void> accept_loop(tcp::acceptor acceptor, std::shared_ptr<SocksServer> server) {
  std::string label = server->label;
  ConnectionHandler serve = [server](tcp::socket socket) {
    return serve_client(std::move(socket), server);
  };
  return accept_connections(std::move(acceptor), std::move(label), std::move(serve));
}

}  // namespace

awaitable<int> run_socks(const Config& config, chain::Services& services, ServerStats& totals) {
  const auto ex = co_await asio::this_coro::executor;
  std::error_code ec;
  tcp::acceptor acceptor = open_listener(ex, config.socks_listen, ec);
  if (ec) {
    log::error("socks: cannot listen on " + listen_text(config.socks_listen) + ": " + ec.message());
    co_return 1;
  }
  log::verbose("SOCKS4/4a/5 server on " + listen_text(config.socks_listen) + ", " +
               (config.hops.empty() ? std::string("connecting directly")
                                    : "through " + std::to_string(config.hops.size()) + " hop(s)") +
               (config.socks_users.empty()
                    ? std::string(", no authentication")
                    : ", RFC 1929 authentication for " + std::to_string(config.socks_users.size()) +
                          " user(s)"));
  if (!config.socks_gssapi.keytab.empty()) {
    const GssapiServerSettings& gss = config.socks_gssapi;
    if (const std::string why = check_gssapi_keytab(gss); !why.empty()) {
      log::error("socks: --gssapi-keytab " + gss.keytab + ": " + why);
      co_return 1;
    }
    log::verbose("socks: GSS-API for tickets to " + gss.service + "/... from " + gss.keytab +
                 ", protection up to " + proto::protection_name(gss.max_protection));
  }
  auto server = make_server(config, services, totals);
  const HandshakeLimitsOptions& limits = server->limits.options();
  log::verbose("socks: " + access_text(config) + "; at most " + std::to_string(limits.max_total) +
               " connections in handshake (" + std::to_string(limits.max_per_source) +
               " per source)");
  // Runs until the io_context stops (a signal).
  co_await accept_loop(std::move(acceptor), std::move(server));
  co_return 0;
}

}  // namespace hc::app
