/// Forwarded requests with keep-alive per target: see http_forward.hpp.
#include "app/http_forward.hpp"

#include <array>
#include <tuple>

#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "proto/origin_response.hpp"

namespace hc::app {
namespace {

constexpr std::size_t kBufferSize = 16 * 1024;
using Buffer = std::array<std::uint8_t, kBufferSize>;

/// How the response went.
struct Relayed {
  bool received = false;  ///< a byte came from the target
  bool answered = false;  ///< a byte went to the client
  bool complete = false;  ///< the final response went through to its end
  bool keep_client = false;
  bool reusable = false;  ///< the target keeps the connection and sent nothing more
  std::string why;        ///< what went wrong, for a 502 while nothing was answered
};

/// What the upload and the response share: which one is still running.
struct Exchange {
  transport::Stream& client;
  transport::Stream& upstream;
  relay::LiveBytes& bytes;
  const proto::HttpProxyRequest& request;
  bool upload_done = false;
  bool response_done = false;
};

/// The request body: from `pending`, then from the client, up to its end; what the client sent
/// after it stays in `pending`. On a failure the upstream is closed, so that the response
/// side ends too.
awaitable<bool> send_body(Exchange& x, std::vector<std::uint8_t>& pending) {
  proto::HttpBodyEnd body(x.request.body, x.request.content_length);
  std::size_t n = body.feed(pending);
  bool ok = !body.failed();
  if (ok && n > 0) {
    auto [ec, written] = co_await x.upstream.write_all(std::span(pending).first(n));
    x.bytes.up += written;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    ok = !ec;
  }
  Buffer buffer{};
  while (ok && !body.done()) {
    auto [ec, got] = co_await x.client.read_some(buffer);
    if (ec) {
      ok = false;
      break;
    }
    n = body.feed(std::span(buffer).first(got));
    pending.insert(pending.end(), buffer.begin() + static_cast<std::ptrdiff_t>(n),
                   buffer.begin() + static_cast<std::ptrdiff_t>(got));
    auto [wec, written] = co_await x.upstream.write_all(std::span(buffer).first(n));
    x.bytes.up += written;
    ok = !wec && !body.failed();
  }
  x.upload_done = ok;
  if (!ok && !x.response_done) {
    x.upstream.close();
  }
  co_return ok;
}

/// Reads from the target into `buffer`; false at its end or on an error.
awaitable<bool> read_upstream(Exchange& x, Buffer& buffer, std::size_t& got, Relayed& out) {
  auto [ec, n] = co_await x.upstream.read_some(buffer);
  if (ec) {
    out.why = ec == asio::error::eof ? std::string("the target closed the connection")
                                     : "the target's connection failed: " + ec.message();
    co_return false;
  }
  out.received = true;
  x.bytes.down += n;
  got = n;
  co_return true;
}

/// The response's body, after `first` (what came with the head), up to its end.
awaitable<void> relay_body(Exchange& x, const proto::OriginResponse& response,
                           std::span<const std::uint8_t> first, Relayed& out) {
  proto::HttpBodyEnd body(response.body, response.content_length);
  std::size_t n = body.feed(first);
  bool extra = n < first.size();
  auto [ec, written] = co_await x.client.write_all(first.first(n));
  Buffer buffer{};
  while (!ec && !body.done() && !body.failed()) {
    std::size_t got = 0;
    if (!co_await read_upstream(x, buffer, got, out)) {
      // A body that runs until the close ends here; any other was cut short.
      out.complete = response.body == proto::HttpBodyKind::until_close;
      co_return;
    }
    n = body.feed(std::span(buffer).first(got));
    extra = extra || n < got;
    std::tie(ec, written) = co_await x.client.write_all(std::span(buffer).first(n));
  }
  out.complete = !ec && body.done();
  out.reusable = out.complete && response.keep_alive && !extra;
}

/// The response heads (1xx ones first) and body, from the target to the client.
awaitable<Relayed> relay_response(Exchange& x) {
  Relayed out;
  const bool http10 = x.request.version == "HTTP/1.0";
  std::vector<std::uint8_t> carried;  // what came after a 1xx head
  for (;;) {
    proto::OriginResponseHead head(x.request.method == "HEAD");
    auto state = head.feed(carried);
    Buffer buffer{};
    while (state == proto::OriginResponseHead::Result::need_more) {
      std::size_t got = 0;
      if (!co_await read_upstream(x, buffer, got, out)) {
        co_return out;
      }
      state = head.feed(std::span(buffer).first(got));
    }
    if (state == proto::OriginResponseHead::Result::error) {
      out.why = std::string(proto::to_string(*head.error()));
      co_return out;
    }
    const proto::OriginResponse& response = head.response();
    if (response.interim) {
      carried.assign(head.leftover().begin(), head.leftover().end());
      if (!http10) {  // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client
        const std::vector<std::uint8_t> interim = head.client_head("");
        out.answered = true;
        if (auto [ec, n] = co_await x.client.write_all(interim); ec) {
          co_return out;
        }
      }
      continue;
    }
    // The client's connection persists if it asked to, its request was read to the end and the
    // response does not end with the close.
    out.keep_client =
        x.request.keep_alive && x.upload_done && response.body != proto::HttpBodyKind::until_close;
    const std::vector<std::uint8_t> client_head = head.client_head(!out.keep_client ? "close"
                                                                   : http10         ? "keep-alive"
                                                                                    : "");
    out.answered = true;
    if (auto [ec, n] = co_await x.client.write_all(client_head); ec) {
      co_return out;
    }
    co_await relay_body(x, response, head.leftover(), out);
    co_return out;
  }
}

/// The response, then the end of a body upload the target did not wait for: its reader stops
/// (cancelled) and so does its writer, which a target that stopped reading would block forever
/// (the tunnel is closed: it cannot carry another request with half a body in it).
awaitable<Relayed> response_side(Exchange& x) {
  Relayed out = co_await relay_response(x);
  x.response_done = true;
  if (!x.upload_done) {
    out.keep_client = false;
    out.reusable = false;
    if (tcp::socket* bottom = x.client.bottom()) {
      std::error_code ignored;
      bottom->cancel(ignored);
    }
    x.upstream.close();
  }
  co_return out;
}

/// One attempt over the open upstream: the head, then the body and the response together (a
/// client that sent "Expect: 100-continue" waits for the 100 before its body).
awaitable<Relayed> exchange(transport::Stream& client, std::vector<std::uint8_t>& pending,
                            const proto::HttpProxyRequest& request, HttpUpstream& upstream) {
  using namespace asio::experimental::awaitable_operators;
  Exchange x{client, upstream.stream(), upstream.bytes(), request};
  auto [ec, n] = co_await x.upstream.write_all(request.forward_head);
  x.bytes.up += n;
  if (ec) {
    Relayed out;
    out.why = "the target's connection failed: " + ec.message();
    co_return out;
  }
  auto [uploaded, relayed] = co_await (send_body(x, pending) && response_side(x));
  (void)uploaded;
  co_return relayed;
}

bool may_send_again(const proto::HttpProxyRequest& request) {
  return (request.method == "GET" || request.method == "HEAD") &&
         request.body == proto::HttpBodyKind::none;
}

}  // namespace

awaitable<std::optional<chain::ChainError>> HttpUpstream::open(chain::Services& services,
                                                               ServerStats& totals,
                                                               const std::string& what,
                                                               const proto::HostPort& target) {
  close();
  auto report = std::make_unique<ConnectionStats>(what, totals);
  chain::ChainResult result =
      co_await chain::open_chain_with_strategy(services.planner->hops(), target, services);
  report->chain_done(result);
  if (result.error) {
    co_return std::move(result.error);
  }
  target_ = target;
  stream_ = std::move(result.stream);
  report_ = std::move(report);
  co_return std::nullopt;
}

void HttpUpstream::close() {
  if (!stream_) {
    return;
  }
  stream_->close();
  stream_.reset();
  const relay::LiveBytes bytes = *report_->live();
  report_->closed(bytes.up, bytes.down);
  report_.reset();
}

awaitable<Forwarded> forward_request(transport::Stream& client, std::vector<std::uint8_t>& pending,
                                     const proto::HttpProxyRequest& request, HttpUpstream& upstream,
                                     const ForwardContext& context) {
  Forwarded out;
  for (int attempt = 0;; ++attempt) {
    const bool reused = upstream.open_to(request.target);
    if (reused) {
      log::verbose(context.what + ": over the kept-alive connection");
    } else if (auto error = co_await upstream.open(context.services, context.totals, context.what,
                                                   request.target)) {
      out.chain_error = std::move(error);
      co_return out;
    }
    const Relayed relayed = co_await exchange(client, pending, request, upstream);
    if (!relayed.reusable) {
      upstream.close();
    }
    if (relayed.answered) {
      if (!relayed.complete && relayed.why.empty()) {
        log::verbose(context.what + ": the client went away mid-response");
      } else if (!relayed.complete) {
        log::error(context.what + ": " + relayed.why + " mid-response");
      }
      out.keep_client = relayed.complete && relayed.keep_client;
      co_return out;
    }
    // Nothing reached the client. A kept-alive connection the target dropped while idle takes
    // a GET or HEAD once more on a fresh one; anything else might have been acted on.
    if (reused && !relayed.received && attempt == 0 && may_send_again(request)) {
      log::verbose(context.what + ": " + relayed.why + " before answering; sending it again");
      continue;
    }
    out.bad_gateway =
        relayed.why + (relayed.received ? "" : " before answering") +
        (reused && !relayed.received ? " (a kept-alive connection; not sent again)" : "");
    co_return out;
  }
}

}  // namespace hc::app
