#include "app/udp_stats.hpp"

#include <string>

namespace hc::app {

udp::ForwardOptions counted_udp_options(std::chrono::milliseconds idle_timeout,
                                        std::size_t max_sources, ServerStats& totals) {
  udp::ForwardOptions options;
  options.idle_timeout = idle_timeout;
  options.max_sources = max_sources;
  ServerStats* stats = &totals;
  options.hooks.opened = [stats] { stats->opened(); };
  options.hooks.failed = [stats](const chain::ChainError& error) { stats->chain_failed(error); };
  options.hooks.closed = [stats](const std::string& who, const udp::Counters& counters,
                                 std::chrono::microseconds lifetime) {
    stats->closed(counters.bytes_sent, counters.bytes_received);
    if (stats->reporting()) {
      stats->report(who + ": " +
                    close_line(counters.bytes_sent, counters.bytes_received, lifetime) +
                    ", datagrams: " + counters.text());
    }
  };
  return options;
}

}  // namespace hc::app
