/// Absolute-form requests of the HTTP proxy front, forwarded with keep-alive per target (RFC 9112
/// §9.3): the tunnel through the chain to host:port stays open across a client's consecutive
/// requests to it while the origin keeps it open; a request for another target closes it and
/// opens a new one. The response's framing (proto/origin_response.hpp) says where it ends, so
/// the client's connection can carry its next request.
///
/// A request never goes out twice, except that a GET or HEAD without a body whose reused tunnel
/// turns out closed before any response byte is sent once more on a fresh tunnel (the origin
/// dropped an idle connection, RFC 9112 §9.3.1); any other request is then answered 502.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "app/stats.hpp"
#include "chain/open_chain.hpp"
#include "proto/http_proxy_request.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// The open tunnel to one target, with its statistics lines.
class HttpUpstream {
 public:
  HttpUpstream() = default;
  HttpUpstream(const HttpUpstream&) = delete;
  HttpUpstream& operator=(const HttpUpstream&) = delete;
  ~HttpUpstream() { close(); }

  bool open_to(const proto::HostPort& target) const { return stream_ && target_ == target; }
  /// Opens a tunnel to `target` (closing any other). On failure, the chain's error.
  awaitable<std::optional<chain::ChainError>> open(chain::Services& services, ServerStats& totals,
                                                   const std::string& what,
                                                   const proto::HostPort& target);
  /// Closes the tunnel and logs its close line.
  void close();

  transport::Stream& stream() { return *stream_; }
  relay::LiveBytes& bytes() { return *report_->live(); }

 private:
  proto::HostPort target_;
  std::unique_ptr<transport::Stream> stream_;
  std::unique_ptr<ConnectionStats> report_;
};

/// Where a forwarded request left the client's connection.
struct Forwarded {
  bool keep_client = false;  ///< the response is complete and the next request may follow
  /// Set when no response byte reached the client: the chain's error (403 or 502 by its kind)
  /// or why the target gave no usable response (502). The caller answers.
  std::optional<chain::ChainError> chain_error;
  std::optional<std::string> bad_gateway;
};

struct ForwardContext {
  const Config& config;
  chain::Services& services;
  ServerStats& totals;
  std::string what;  ///< "socks client 127.0.0.1:40000: HTTP GET example.org:80"
};

/// Forwards `request` (its head parsed; `pending` holds what the client sent after the head and
/// keeps what it sent after the body: its next request) over `upstream` and relays the response.
awaitable<Forwarded> forward_request(transport::Stream& client, std::vector<std::uint8_t>& pending,
                                     const proto::HttpProxyRequest& request, HttpUpstream& upstream,
                                     const ForwardContext& context);

}  // namespace hc::app
