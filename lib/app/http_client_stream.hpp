/// The HTTP proxy client's side of a tunnel, as the relay reads it: first the bytes to send
/// upstream that are already known (a rewritten request head, what came after the head), then
/// the client's socket. For a forwarded request, only up to the end of its body: what a client
/// pipelines after it is read and dropped, never sent upstream (it may carry a
/// Proxy-Authorization), and the client sees the connection close after the response, so it
/// retries those requests on a new connection (RFC 9112 §9.3.2).
#pragma once

#include <cstdint>
#include <vector>

#include "proto/http_proxy_request.hpp"
#include "transport/stream.hpp"

namespace hc::app {

class HttpClientStream final : public transport::Stream {
 public:
  /// A CONNECT tunnel: `prefix`, then everything the client sends.
  HttpClientStream(transport::Stream& client, std::span<const std::uint8_t> prefix);
  /// A forwarded request: `request`'s rewritten head and body, of which `leftover` came with the
  /// head.
  HttpClientStream(transport::Stream& client, const proto::HttpProxyRequest& request,
                   std::span<const std::uint8_t> leftover);

  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override;
  awaitable<transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    return client_.write_all(data);
  }
  awaitable<std::error_code> shutdown_send() override { return client_.shutdown_send(); }
  void close() override { client_.close(); }
  tcp::socket* bottom() override { return client_.bottom(); }
  std::size_t buffered() const override { return prefix_.size() - offset_; }
  /// Splicing only for a tunnel, once the prefix is out: a request's body must be counted.
  transport::RawIo* raw_io() override {
    return bounded_ || offset_ < prefix_.size() ? nullptr : client_.raw_io();
  }

 private:
  /// How much of `data` belongs to the body still to come.
  std::size_t take_body(std::span<const std::uint8_t> data);
  awaitable<transport::IoResult> drain();

  transport::Stream& client_;
  std::vector<std::uint8_t> prefix_;
  std::size_t offset_ = 0;
  bool bounded_ = false;
  proto::HttpBodyKind body_ = proto::HttpBodyKind::none;
  std::uint64_t remaining_ = 0;  // Content-Length bytes still to come
  proto::ChunkedBodyEnd chunked_;
};

}  // namespace hc::app
