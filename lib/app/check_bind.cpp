#include "app/check_bind.hpp"

#include <utility>

#include "chain/bind_at_last_hop.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

awaitable<BindVerdict> probe_one(chain::Hops path, chain::Services& services) {
  BindVerdict verdict;
  if (path.back()->spec.protocol == proto::Protocol::http) {
    verdict.word = "n/a";
    co_return verdict;
  }
  auto bind = co_await chain::LastHopBind::open(path, services);
  if (bind) {
    verdict.word = "yes";
    verdict.detail = "listening at " + bind->listening().to_string();
    bind->stream().close();
    co_return verdict;
  }
  const chain::ChainError& e = bind.error();
  // A hop that failed before the BIND request was not asked: that is the walk's finding.
  if (e.hop != path.size() || e.stage != proto::Stage::request) {
    verdict.word = "not reached";
  } else {
    verdict.word = chain::bind_unsupported(e) ? "no" : "refused";
  }
  verdict.detail = e.reason();
  co_return verdict;
}

}  // namespace

chain::Hops probe_path(const chain::Hops& hops, std::size_t i, bool strict) {
  if (strict) {
    return chain::first_hops(hops, i + 1);
  }
  chain::Hops path;
  path.push_back(hops[i]);
  return path;
}

awaitable<std::vector<BindVerdict>> probe_binds(const Config& config, chain::Services& services,
                                                const std::vector<bool>& reached) {
  const chain::Hops& hops = services.planner->hops();
  const bool strict = config.strategy.strategy == chain::Strategy::strict;
  std::vector<BindVerdict> verdicts(hops.size());
  for (std::size_t i = 0; i < hops.size(); ++i) {
    if (i >= reached.size() || !reached[i]) {
      continue;
    }
    verdicts[i] = co_await probe_one(probe_path(hops, i, strict), services);
    log::verbose(chain::hop_label(i + 1, hops.size(), hops[i]->redacted) +
                 ": BIND probe: " + verdicts[i].word +
                 (verdicts[i].detail.empty() ? "" : " (" + verdicts[i].detail + ")"));
  }
  co_return verdicts;
}

}  // namespace hc::app
