#include "app/forward_workers.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include "app/listener.hpp"
#include "app/modes.hpp"
#include "base/stop_signals.hpp"
#include "chain/probe_set.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "log/log.hpp"

namespace hc::app {

unsigned forward_loop_count(unsigned requested) {
  if (requested != 0) {
    return requested;
  }
  // hardware_concurrency may not know (0); more loops than cores only add context switches.
  return std::clamp(std::thread::hardware_concurrency(), 1U, 64U);
}

ForwardWorkers::ForwardWorkers(const Config& config, chain::PipelineMemory& pipeline_memory,
                               ServerStats& totals)
    : config_(config), pipeline_memory_(pipeline_memory), totals_(totals) {}

ForwardWorkers::~ForwardWorkers() {
  stop();
}

void ForwardWorkers::start(unsigned count, chain::Planner& planner) {
  for (unsigned i = 0; i < count; ++i) {
    // Created here rather than on the thread, so stop() can reach a loop that has not run yet
    // (a stopped io_context returns from run() at once).
    loops_.push_back(std::make_unique<asio::io_context>(1));
    asio::io_context& io = *loops_.back();
    threads_.push_back(
        start_thread_without_stop_signals([this, &io, &planner] { run_loop(io, planner); }));
  }
}

void ForwardWorkers::stop() {
  for (auto& io : loops_) {
    io->stop();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
  loops_.clear();
}

void ForwardWorkers::run_loop(asio::io_context& io, chain::Planner& planner) {
  // Everything with sockets or timers lives and dies on this thread, with its loop.
  std::optional<dns::Resolver> resolver;
  try {
    dns::Resolver::Options options;
    options.servers = config_.dns_servers;
    resolver.emplace(io.get_executor(), options);
  } catch (const std::exception& e) {
    log::error(std::string("forward worker: ") + e.what());
    return;
  }
  chain::Services services{*resolver, config_.connect_timeout};
  services.pipeline_mode = config_.pipeline;
  services.pipeline_memory = &pipeline_memory_;
  services.planner = &planner;
  chain::ProbeSet probes(io.get_executor());
  services.probes = &probes;
  ForwardRole role;
  role.primary = false;
  role.share_ports = true;
  asio::co_spawn(io, run_forward(config_, services, totals_, role),
                 [](std::exception_ptr e, int) { log_task_end(e); });
  io.run();
}

}  // namespace hc::app
