#include "chain/pipeline_memory.hpp"

#include <fstream>
#include <sstream>

namespace hc::chain {
namespace {

// A cache that grows without bound would be a slow leak for a long-lived forward.
constexpr std::size_t kMaxEntries = 4096;

}  // namespace

std::string_view to_string(PipelineVerdict verdict) {
  switch (verdict) {
    case PipelineVerdict::accepts:
      return "accepts";
    case PipelineVerdict::refuses:
      return "refuses";
    case PipelineVerdict::unknown:
      break;
  }
  return "unknown";
}

PipelineMemory::PipelineMemory(std::string path, CacheWriter* writer)
    : path_(std::move(path)), writer_(writer) {
  load();
}

std::string PipelineMemory::default_path() {
  return cache_path("pipeline");
}

std::string PipelineMemory::key(const proto::HopSpec& hop) {
  // The server and how we speak to it; not the user, whose name is nobody else's business.
  return hop.scheme + "://" + hop.server.to_string();
}

PipelineVerdict PipelineMemory::verdict(const proto::HopSpec& hop) const {
  const std::lock_guard lock(mutex_);
  const auto it = verdicts_.find(key(hop));
  return it == verdicts_.end() ? PipelineVerdict::unknown : it->second;
}

bool PipelineMemory::pipelines(const proto::HopSpec& hop, PipelineMode mode) const {
  switch (mode) {
    case PipelineMode::always:
      return true;
    case PipelineMode::never:
      return false;
    case PipelineMode::automatic:
      break;
  }
  return verdict(hop) == PipelineVerdict::accepts;
}

bool PipelineMemory::claim_probe(const proto::HopSpec& hop) {
  const std::lock_guard lock(mutex_);
  const std::string k = key(hop);
  const auto known = verdicts_.find(k);
  if ((known != verdicts_.end() && known->second != PipelineVerdict::unknown) ||
      !probed_.insert(k).second) {
    return false;
  }
  ++probes_in_flight_;
  return true;
}

void PipelineMemory::record(const proto::HopSpec& hop, PipelineVerdict verdict) {
  const std::lock_guard lock(mutex_);
  auto& slot = verdicts_[key(hop)];
  if (slot == verdict) {
    return;
  }
  slot = verdict;
  if (verdicts_.size() > kMaxEntries) {
    verdicts_.erase(verdicts_.begin());
  }
  if (writer_ != nullptr && !path_.empty()) {
    writer_->save(path_, render());  // under the lock: texts reach the writer in order
  }
}

void PipelineMemory::load() {
  if (path_.empty()) {
    return;
  }
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line) && verdicts_.size() < kMaxEntries) {
    std::istringstream fields(line);
    std::string word, url;
    if (!(fields >> word >> url)) {
      continue;
    }
    if (word == "accepts") {
      verdicts_[url] = PipelineVerdict::accepts;
    } else if (word == "refuses") {
      verdicts_[url] = PipelineVerdict::refuses;
    }
  }
}

std::string PipelineMemory::render() const {
  std::string text;
  for (const auto& [url, verdict] : verdicts_) {
    if (verdict != PipelineVerdict::unknown) {
      text += std::string(to_string(verdict)) + " " + url + "\n";
    }
  }
  return text;
}

}  // namespace hc::chain
