/// The HTTP proxy side of the socks server: see http_proxy_front.hpp.
#include "app/http_proxy_front.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "app/http_client_stream.hpp"
#include "app/linger_close.hpp"
#include "app/socks_reply.hpp"
#include "app/tunnel_session.hpp"
#include "app/users_file.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/http_proxy_request.hpp"
#include "proto/socks_server.hpp"
#include "transport/deadline.hpp"

namespace hc::app {
namespace {

using log::seconds_text;

constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

/// A user name from the client, safe for a log line.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7F || c == '\'') ? '?' : c;
  }
  return text.size() > 64 ? out + "..." : out;
}

/// An answer that ends the connection: a short text body saying why.
awaitable<void> answer(transport::Stream& client, std::string_view status, std::string_view why,
                       bool challenge = false) {
  const std::string body = std::string(why) + "\n";
  std::string text =
      "HTTP/1.1 " + std::string(status) +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n";
  if (challenge) {
    text += "Proxy-Authenticate: Basic realm=\"hopchain\"\r\n";
  }
  text += "\r\n" + body;
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  co_await client.write_all(bytes);
  co_await close_after_answer(client);
}

/// Reads the request head; its error, if the head was refused.
awaitable<std::optional<std::error_code>> read_head(transport::Stream& client,
                                                    proto::HttpProxyRequestHead& head) {
  std::array<std::uint8_t, 4096> buffer{};
  for (;;) {
    auto [ec, n] = co_await client.read_some(buffer);
    if (ec) {
      co_return std::nullopt;
    }
    const auto result = head.feed(std::span(buffer).first(n));
    if (result == proto::HttpProxyRequestHead::Result::done) {
      co_return std::error_code{};
    }
    if (result == proto::HttpProxyRequestHead::Result::error) {
      co_return head.error();
    }
  }
}

/// "HTTP CONNECT example.org:443" or "HTTP GET example.org:80", with the user.
std::string describe(const proto::HttpProxyRequest& request) {
  std::string s = "HTTP " + printable(request.method) + " " + request.target.to_string();
  if (request.credentials) {
    s += " as '" + printable(request.credentials->user) + "'";
  }
  return s;
}

/// The head, read within the handshake deadline; false when the client was dealt with.
awaitable<bool> receive_request(transport::TcpStream& client, proto::HttpProxyRequestHead& head,
                                const HttpClientContext& context) {
  const auto outcome = co_await transport::with_deadline(*client.bottom(), context.head_timeout,
                                                         read_head(client, head));
  if (!outcome) {
    log::error(context.who + ": HTTP request: timed out: no complete request within " +
               seconds_text(context.config.connect_timeout));
    co_return false;
  }
  if (context.evicted()) {
    log::verbose(context.who + ": closed in its handshake to make room for another source");
    co_return false;
  }
  if (!*outcome) {
    log::verbose(context.who + ": closed the connection before completing its HTTP request");
    co_return false;
  }
  if (const std::error_code ec = **outcome) {
    const auto status = proto::http_status_for(static_cast<proto::HttpProxyError>(ec.value()));
    log::error(context.who + ": HTTP request: " + ec.message() + "; answered " +
               std::string(status.substr(0, 3)));
    co_await answer(client, status, ec.message());
    co_return false;
  }
  co_return true;
}

/// --users: Basic credentials of a known user, or a 407 (wrong ones count for the throttle).
awaitable<bool> authorize(transport::Stream& client, const proto::HttpProxyRequest& request,
                          const HttpClientContext& context, const std::string& what) {
  const auto& users = context.config.socks_users;
  if (users.empty()) {
    co_return true;
  }
  const auto& creds = request.credentials;
  if (creds && check_user(users, creds->user, creds->password)) {
    co_return true;
  }
  std::string why = "proxy authentication required";
  if (creds) {
    why = "authentication failed (unknown user or wrong password)";
    context.auth_failed();
  }
  log::error(what + ": " + why + "; answered 407");
  co_await answer(client, "407 Proxy Authentication Required", why, true);
  co_return false;
}

}  // namespace

bool starts_http_request(std::uint8_t first_byte) {
  return first_byte >= 'A' && first_byte <= 'Z';
}

awaitable<std::optional<std::uint8_t>> peek_first_byte(tcp::socket& socket) {
  std::array<std::uint8_t, 1> byte{};
  auto [ec, n] =
      co_await socket.async_receive(asio::buffer(byte), tcp::socket::message_peek, nothrow);
  if (ec || n == 0) {
    co_return std::nullopt;
  }
  co_return byte[0];
}

awaitable<void> serve_http_client(transport::TcpStream& client, HttpClientContext context) {
  proto::HttpProxyRequestHead head;
  if (!co_await receive_request(client, head, context)) {
    co_return;
  }
  const proto::HttpProxyRequest& request = head.request();
  const std::string what = context.who + ": " + describe(request);
  if (!co_await authorize(client, request, context, what)) {
    co_return;
  }
  context.handshake_over();
  log::verbose(what);
  const Config& config = context.config;
  if (const auto decision = config.socks_access.decide_host(request.target.host);
      decision && !decision->allowed) {
    const std::string why = "not allowed: " + request.target.host + " is " + decision->reason;
    log::error(what + ": " + why + "; answered 403");
    co_await answer(client, "403 Forbidden", why);
    co_return;
  }
  const bool connect = request.form == proto::HttpProxyForm::connect;
  HttpClientStream local = connect ? HttpClientStream(client, head.leftover())
                                   : HttpClientStream(client, request, head.leftover());
  ConnectionStats report(what, context.totals);
  TunnelOptions options;
  options.on_open = [&](transport::Stream&) -> awaitable<bool> {
    if (!connect) {
      co_return true;  // the target's response is the answer
    }
    const std::span established(reinterpret_cast<const std::uint8_t*>(kEstablished.data()),
                                kEstablished.size());
    auto [ec, n] = co_await client.write_all(established);
    if (ec) {
      log::verbose(what + ": client went away before the tunnel was granted: " + ec.message());
      co_return false;
    }
    co_return true;
  };
  options.on_chain = [&report](const chain::ChainResult& attempt) { report.chain_done(attempt); };
  options.live = report.live();
  const TunnelOutcome tunnel =
      co_await run_tunnel(local, context.services.planner->hops(), request.target, context.services,
                          std::move(options));
  if (tunnel.chain.error && !tunnel.opened) {
    const std::string why = tunnel.chain.error->message();
    const bool refused = socks5_reply_for(*tunnel.chain.error) == proto::kRepNotAllowed;
    log::error(what + ": " + why + "; answered " + (refused ? "403" : "502"));
    co_await answer(client, refused ? "403 Forbidden" : "502 Bad Gateway", why);
    co_return;
  }
  if (tunnel.chain.error) {
    log::error(what + ": " + tunnel.chain.error->message());
    co_return;
  }
  if (tunnel.relayed) {
    report.closed(tunnel.stats.up.bytes, tunnel.stats.down.bytes);
  }
}

}  // namespace hc::app
