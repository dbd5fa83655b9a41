#include "chain/pipeline_memory.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace hc::chain {
namespace {

// A cache that grows without bound would be a slow leak for a long-lived forward.
constexpr std::size_t kMaxEntries = 4096;

void make_private_dirs(const std::string& file) {
  std::string dir;
  for (std::size_t i = 1; i < file.size(); ++i) {
    if (file[i] == '/') {
      dir = file.substr(0, i);
      ::mkdir(dir.c_str(), 0700);
    }
  }
}

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

PipelineMemory::PipelineMemory(std::string path) : path_(std::move(path)) {
  load();
}

std::string PipelineMemory::default_path() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') {
    return std::string(xdg) + "/hopchain/pipeline";
  }
  if (const char* home = std::getenv("HOME"); home && home[0] == '/') {
    return std::string(home) + "/.cache/hopchain/pipeline";
  }
  return {};
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
  save();
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

void PipelineMemory::save() const {
  if (path_.empty()) {
    return;
  }
  make_private_dirs(path_);
  // Write a private temporary file and rename it over the old one, so that concurrent runs
  // never see half a file.
  const std::string temporary = path_ + "." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;
  }
  std::string text;
  for (const auto& [url, verdict] : verdicts_) {
    if (verdict != PipelineVerdict::unknown) {
      text += std::string(to_string(verdict)) + " " + url + "\n";
    }
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path_.c_str()) != 0) {
    ::unlink(temporary.c_str());
  }
}

}  // namespace hc::chain
