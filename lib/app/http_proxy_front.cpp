/// The HTTP proxy side of the socks server: see http_proxy_front.hpp.
#include "app/http_proxy_front.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/granted_tunnel.hpp"
#include "app/http_client_stream.hpp"
#include "app/http_forward.hpp"
#include "app/linger_close.hpp"
#include "app/socks_reply.hpp"
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
/// How long a persistent client connection may wait for its next request.
constexpr std::chrono::seconds kKeepAliveIdle{60};

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

/// Reads a request head, `pending` (what the client sent after the previous request) first,
/// which then keeps what followed the head. Its error, if the head was refused; nullopt when the
/// client closed or failed.
awaitable<std::optional<std::error_code>> read_head(transport::Stream& client,
                                                    proto::HttpProxyRequestHead& head,
                                                    std::vector<std::uint8_t>& pending) {
  auto result = head.feed(pending);
  std::array<std::uint8_t, 4096> buffer{};
  while (result == proto::HttpProxyRequestHead::Result::need_more) {
    auto [ec, n] = co_await client.read_some(buffer);
    if (ec) {
      co_return std::nullopt;
    }
    result = head.feed(std::span(buffer).first(n));
  }
  if (result == proto::HttpProxyRequestHead::Result::error) {
    co_return head.error();
  }
  pending.assign(head.leftover().begin(), head.leftover().end());
  co_return std::error_code{};
}

/// Answers a refused head: 400, 431 or 501.
awaitable<void> refuse_head(transport::Stream& client, const std::error_code& ec,
                            const std::string& who) {
  const auto status = proto::http_status_for(static_cast<proto::HttpProxyError>(ec.value()));
  log::error(who + ": HTTP request: " + ec.message() + "; answered " +
             std::string(status.substr(0, 3)));
  co_await answer(client, status, ec.message());
}

/// "HTTP CONNECT example.org:443" or "HTTP GET example.org:80", with the user.
std::string describe(const proto::HttpProxyRequest& request) {
  std::string s = "HTTP " + printable(request.method) + " " + request.target.to_string();
  if (request.credentials) {
    s += " as '" + printable(request.credentials->user) + "'";
  }
  return s;
}

/// The first head, read within the handshake deadline; false when the client was dealt with.
awaitable<bool> receive_request(transport::TcpStream& client, proto::HttpProxyRequestHead& head,
                                std::vector<std::uint8_t>& pending,
                                const HttpClientContext& context) {
  const auto outcome = co_await transport::with_deadline(*client.bottom(), context.head_timeout,
                                                         read_head(client, head, pending));
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
    co_await refuse_head(client, ec, context.who);
    co_return false;
  }
  co_return true;
}

/// The next head on a persistent connection, within kKeepAliveIdle; false when the client closed,
/// stayed idle too long or was refused.
awaitable<bool> next_request(transport::TcpStream& client, proto::HttpProxyRequestHead& head,
                             std::vector<std::uint8_t>& pending, const std::string& who) {
  const auto outcome = co_await transport::with_deadline(*client.bottom(), kKeepAliveIdle,
                                                         read_head(client, head, pending));
  if (!outcome || !*outcome) {
    log::verbose(who + (outcome ? ": closed its kept-alive connection"
                                : ": kept-alive connection closed after " +
                                      seconds_text(kKeepAliveIdle) + " without a request"));
    co_return false;
  }
  if (const std::error_code ec = **outcome) {
    co_await refuse_head(client, ec, who);
    co_return false;
  }
  co_return true;
}

/// --users: Basic credentials of a known user, or a 407 (wrong ones count for the throttle). A
/// GSS-API-only server (--gssapi-keytab without --users) answers every HTTP client with a 403.
awaitable<bool> authorize(transport::Stream& client, const proto::HttpProxyRequest& request,
                          const HttpClientContext& context, const std::string& what) {
  const auto& users = context.config.socks_users;
  if (users.empty() && context.config.socks_gssapi.keytab.empty()) {
    co_return true;
  }
  if (users.empty()) {
    // HTTP has no GSS-API method here: only SOCKS5 clients with a Kerberos ticket get in.
    const std::string why = "this proxy requires GSS-API (Kerberos) authentication over SOCKS5";
    log::error(what + ": " + why + "; answered 403");
    co_await answer(client, "403 Forbidden", why);
    co_return false;
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

/// --allow/--deny and the local-target rules, for a name or address as the client gave it.
awaitable<bool> allowed(transport::Stream& client, const proto::HttpProxyRequest& request,
                        const Config& config, const std::string& what) {
  const auto decision = config.socks_access.decide_host(request.target.host);
  if (!decision || decision->allowed) {
    co_return true;
  }
  const std::string why = "not allowed: " + request.target.host + " is " + decision->reason;
  log::error(what + ": " + why + "; answered 403");
  co_await answer(client, "403 Forbidden", why);
  co_return false;
}

/// A chain that did not open: 403 when a rule refused the target, else 502.
awaitable<void> refuse_for_chain(transport::Stream& client, const chain::ChainError& error,
                                 const std::string& what) {
  const std::string why = error.message();
  const bool refused = socks5_reply_for(error) == proto::kRepNotAllowed;
  log::error(what + ": " + why + "; answered " + (refused ? "403" : "502"));
  co_await answer(client, refused ? "403 Forbidden" : "502 Bad Gateway", why);
}

/// Absolute-form requests, one after the other on a persistent connection, the first (`head`)
/// already read and authorized. Every answer of the proxy's own ends the connection. (References
/// only: GCC 12 mishandles temporaries built inside a co_await expression.)
awaitable<void> serve_requests(transport::TcpStream& client, proto::HttpProxyRequestHead& head,
                               std::vector<std::uint8_t>& pending,
                               const HttpClientContext& context) {
  HttpUpstream upstream;
  for (bool authorized = true;; authorized = false) {
    const proto::HttpProxyRequest& request = head.request();
    const ForwardContext forward{context.config, context.services, context.totals,
                                 context.who + ": " + describe(request)};
    if (request.form != proto::HttpProxyForm::absolute) {
      log::error(forward.what + ": CONNECT after a forwarded request; answered 400");
      co_await answer(client, "400 Bad Request", "CONNECT must open its own connection");
      co_return;
    }
    if (!authorized && !co_await authorize(client, request, context, forward.what)) {
      co_return;
    }
    log::verbose(forward.what);
    if (!co_await allowed(client, request, context.config, forward.what)) {
      co_return;
    }
    const Forwarded forwarded =
        co_await forward_request(client, pending, request, upstream, forward);
    if (forwarded.chain_error) {
      co_await refuse_for_chain(client, *forwarded.chain_error, forward.what);
      co_return;
    }
    if (forwarded.bad_gateway) {
      log::error(forward.what + ": " + *forwarded.bad_gateway + "; answered 502");
      co_await answer(client, "502 Bad Gateway", *forwarded.bad_gateway);
      co_return;
    }
    if (!forwarded.keep_client) {
      co_await close_after_answer(client);
      co_return;
    }
    head = proto::HttpProxyRequestHead();
    if (!co_await next_request(client, head, pending, context.who)) {
      co_return;
    }
  }
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
  std::vector<std::uint8_t> pending;
  if (!co_await receive_request(client, head, pending, context)) {
    co_return;
  }
  const proto::HttpProxyRequest& request = head.request();
  const std::string what = context.who + ": " + describe(request);
  if (!co_await authorize(client, request, context, what)) {
    co_return;
  }
  context.handshake_over();
  if (request.form == proto::HttpProxyForm::absolute) {
    co_await serve_requests(client, head, pending, context);
    co_return;
  }
  log::verbose(what);
  if (!co_await allowed(client, request, context.config, what)) {
    co_return;
  }
  HttpClientStream local(client, pending);
  const GrantBytes grant = [](transport::Stream&) {
    return std::vector<std::uint8_t>(kEstablished.begin(), kEstablished.end());
  };
  const TunnelOutcome tunnel =
      co_await grant_then_relay(client, local, context.services.planner->hops(), request.target,
                                context.services, context.totals, what, grant);
  if (tunnel.chain.error && !tunnel.opened) {
    co_await refuse_for_chain(client, *tunnel.chain.error, what);
  }
}

}  // namespace hc::app
