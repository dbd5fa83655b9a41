/// A chain's far side without sockets, for the engine's tests: a Services::connector that hands
/// out a scripted stream playing SOCKS5 hops (no auth) answering in turn, which can fail one
/// chosen write or end its reads after a chosen byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/hop.hpp"
#include "chain/services.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "proto/proxy_url.hpp"
#include "transport/stream.hpp"

namespace hc::test {

using Bytes = std::vector<std::uint8_t>;

/// What the scripted peers say, and where the stream breaks.
struct Script {
  Bytes incoming;                            ///< every hop's replies, in order
  std::size_t read_at = 0;                   ///< bytes of `incoming` read so far
  std::optional<std::size_t> eof_at;         ///< reads end (EOF) once this many bytes were read
  std::optional<std::size_t> failing_write;  ///< 1-based write that fails with `write_error`
  std::error_code write_error = asio::error::network_down;
  std::size_t writes = 0;
  Bytes written;
};

class ChainScriptStream final : public hc::transport::Stream {
 public:
  ChainScriptStream(std::shared_ptr<Script> script, const asio::any_io_executor& ex)
      : script_(std::move(script)), bottom_(ex) {}

  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override {
    Script& s = *script_;
    std::size_t end = s.incoming.size();
    if (s.eof_at) {
      end = std::min(end, *s.eof_at);
    }
    if (s.read_at >= end) {
      co_return hc::transport::IoResult{asio::error::eof, 0};
    }
    const std::size_t n = std::min(buffer.size(), end - s.read_at);
    std::copy_n(s.incoming.begin() + static_cast<long>(s.read_at), n, buffer.begin());
    s.read_at += n;
    co_return hc::transport::IoResult{std::error_code{}, n};
  }
  awaitable<transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    Script& s = *script_;
    if (++s.writes == s.failing_write) {
      co_return hc::transport::IoResult{s.write_error, 0};
    }
    s.written.insert(s.written.end(), data.begin(), data.end());
    co_return hc::transport::IoResult{std::error_code{}, data.size()};
  }
  awaitable<std::error_code> shutdown_send() override { co_return std::error_code{}; }
  void close() override {}
  hc::tcp::socket* bottom() override { return &bottom_; }  // never opened: deadlines only

 private:
  std::shared_ptr<Script> script_;
  hc::tcp::socket bottom_;
};

inline awaitable<chain::FirstConnection> connect_scripted(std::shared_ptr<Script> script) {
  hc::chain::FirstConnection c;
  c.stream =
      std::make_unique<ChainScriptStream>(std::move(script), co_await asio::this_coro::executor);
  c.peer = hc::tcp::endpoint(asio::ip::make_address("192.0.2.1"), 1080);
  co_return c;
}

inline hc::chain::Hops three_hops() {
  std::vector<hc::proto::HopSpec> specs;
  for (const char* url :
       {"socks5://192.0.2.1:1080", "socks5://192.0.2.2:1080", "socks5://192.0.2.3:1080"}) {
    hc::proto::HopSpec hop;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, hop));
    specs.push_back(hop);
  }
  return *hc::chain::compile_hops(specs, "");
}

/// Each hop: method reply "no auth", then "granted" bound to 0.0.0.0:0 (2 + 10 bytes).
inline Bytes replies(std::size_t hops) {
  Bytes out;
  for (std::size_t i = 0; i < hops; ++i) {
    out.insert(out.end(), {5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  }
  return out;
}

/// An event loop, a resolver and a strategy over three_hops(), with sequential handshakes: what
/// the tests of the strategy's retries run on (they set services.connector).
struct ScriptedStrategy {
  explicit ScriptedStrategy(chain::Strategy strategy)
      : resolver(io.get_executor(), {}), planner(three_hops(), options_for(strategy)) {
    services.pipeline_mode = chain::PipelineMode::never;
    services.planner = &planner;
  }
  static chain::StrategyOptions options_for(chain::Strategy strategy) {
    chain::StrategyOptions options;
    options.strategy = strategy;
    return options;
  }

  asio::io_context io;
  dns::Resolver resolver;
  chain::Services services{resolver, std::chrono::milliseconds(2000)};
  chain::Planner planner;
};

}  // namespace hc::test
