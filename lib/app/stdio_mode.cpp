#include "app/modes.hpp"
#include "app/stats.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "relay/relay.hpp"
#include "transport/stdio_stream.hpp"

namespace hc::app {

awaitable<int> run_stdio(const Config& config, chain::Services& services, ServerStats& totals) {
  ConnectionStats report("stdio", totals);
  auto chain = co_await chain::open_chain_with_strategy(config.hops, config.target, services);
  report.chain_done(chain);
  if (chain.error) {
    log::error(chain.error->message());
    co_return 1;
  }
  transport::StdioStream local(co_await asio::this_coro::executor);
  const auto stats = co_await relay::relay(local, *chain.stream);
  chain.stream->close();
  report.closed(stats.up.bytes, stats.down.bytes);
  // The direction that failed first carries the real reason; the other one then only sees the
  // abort that followed.
  const std::error_code& failure =
      stats.down.error && stats.down.error != asio::error::operation_aborted ? stats.down.error
                                                                             : stats.up.error;
  if (failure) {
    log::error("connection to " + config.target.to_string() + " lost: " + failure.message());
    co_return 1;
  }
  co_return 0;
}

}  // namespace hc::app
