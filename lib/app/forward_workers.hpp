/// More event loops for forward mode, so that it uses every core. Each extra loop runs on its own
/// thread with its own io_context, resolver and listeners bound to the same ports with
/// SO_REUSEPORT: the kernel spreads new connections across the loops, and a connection stays on
/// the loop that accepted it. Loops share only what is safe to share: the configuration and the
/// compiled hops (read-only), the planner (hop health and round-robin turn), the pipelining memory
/// and the statistics (locked).
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "app/config.hpp"
#include "app/stats.hpp"
#include "chain/hop.hpp"
#include "chain/pipeline_memory.hpp"
#include "chain/strategy.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// `--workers 0`: one event loop per core.
unsigned forward_loop_count(unsigned requested);

class ForwardWorkers {
 public:
  /// `totals` is shared by every loop (it locks).
  ForwardWorkers(const Config& config, chain::PipelineMemory& pipeline_memory, ServerStats& totals);
  ~ForwardWorkers();
  ForwardWorkers(const ForwardWorkers&) = delete;
  ForwardWorkers& operator=(const ForwardWorkers&) = delete;

  /// Starts `count` loops besides the caller's, sharing its `planner`. Call once the caller's
  /// listeners are bound, so a port that cannot be had is reported once, by the caller.
  void start(unsigned count, chain::Planner& planner);
  /// Stops every loop and waits for its thread. Safe to call more than once.
  void stop();

 private:
  void run_loop(asio::io_context& io, chain::Planner& planner);

  const Config& config_;
  chain::PipelineMemory& pipeline_memory_;
  ServerStats& totals_;
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace hc::app
