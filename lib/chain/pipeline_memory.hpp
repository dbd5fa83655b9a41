/// What hopchain has learnt about which hops accept pipelined handshakes (greeting, auth and
/// request in one write, and the next hop's bytes right behind them). Most servers do; some
/// (microsocks) answer the greeting and drop the rest, so a hop is pipelined only once it has
/// been seen to accept. Verdicts are remembered across runs in $XDG_CACHE_HOME/hopchain/pipeline
/// (default ~/.cache/hopchain/pipeline), one "accepts|refuses URL" line per hop, no passwords.
/// Thread-safe: the event loops of forward mode share one. Recording only updates the memory; the
/// file is saved by a CacheWriter, off the event loops.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "chain/cache_files.hpp"
#include "proto/proxy_url.hpp"

namespace hc::chain {

enum class PipelineMode : std::uint8_t {
  automatic,  ///< pipeline the hops known to accept it; learn about the others
  always,     ///< pipeline every hop
  never,      ///< one round trip per step, as every other client does
};

enum class PipelineVerdict : std::uint8_t { unknown, accepts, refuses };

std::string_view to_string(PipelineVerdict verdict);

class PipelineMemory {
 public:
  /// Reads what earlier runs learnt from `path` (empty: nothing) and saves changes to it through
  /// `writer` (null: what is learnt is remembered for this process only).
  explicit PipelineMemory(std::string path = {}, CacheWriter* writer = nullptr);

  /// $XDG_CACHE_HOME/hopchain/pipeline, or ~/.cache/hopchain/pipeline; empty if neither is known.
  static std::string default_path();

  PipelineVerdict verdict(const proto::HopSpec& hop) const;
  /// Records and, when it changed, has the file saved (errors saving are ignored: it is a cache).
  void record(const proto::HopSpec& hop, PipelineVerdict verdict);

  /// Whether `hop` should get its handshake pipelined under `mode`.
  bool pipelines(const proto::HopSpec& hop, PipelineMode mode) const;

  /// True the first time it is asked about a hop whose verdict is unknown: one probe per hop
  /// and process is enough.
  bool claim_probe(const proto::HopSpec& hop);
  /// Probes started and not yet finished, so a short run can wait for their verdicts.
  void probe_finished() { --probes_in_flight_; }
  int probes_in_flight() const { return probes_in_flight_.load(); }

 private:
  static std::string key(const proto::HopSpec& hop);
  void load();
  std::string render() const;

  std::string path_;
  CacheWriter* writer_;
  mutable std::mutex mutex_;  ///< guards verdicts_ and probed_
  std::map<std::string, PipelineVerdict> verdicts_;
  std::set<std::string> probed_;
  std::atomic<int> probes_in_flight_ = 0;
};

}  // namespace hc::chain
