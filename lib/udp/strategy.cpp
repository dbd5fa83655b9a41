#include "udp/strategy.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "chain/strategy.hpp"
#include "log/log.hpp"

namespace hc::udp {
namespace {

/// "socks4://…: cannot carry UDP: …", without the "hop j/n" of the chain it was found in.
std::string why_without_udp(const chain::ChainError& e) {
  std::string m = e.where + ": " + e.ec.message();
  if (!e.detail.empty()) {
    m += ": " + e.detail;
  }
  return m;
}

/// Leaves hop `index` out of UDP selections from now on, saying so once.
/// `tag`: the connection that found out, if any.
void leave_out(chain::Planner& planner, std::size_t index, const chain::ChainError& why,
               const std::string& tag = {}) {
  if (planner.without_udp(index)) {
    return;
  }
  planner.mark_without_udp(index);
  log::info(tag + why_without_udp(why) + "; left out of UDP associations");
}

/// Hops that can never carry UDP (not plain SOCKS5) are known without connecting.
void leave_out_unfit(chain::Planner& planner, std::optional<chain::ChainError>& last_refusal) {
  const auto& hops = planner.hops();
  for (std::size_t i = 0; i < hops.size(); ++i) {
    if (planner.without_udp(i)) {
      continue;
    }
    chain::Hops alone;
    alone.push_back(hops[i]);
    if (auto refused = check_udp_chain(alone)) {
      refused->hop = i + 1;
      refused->hops = hops.size();
      leave_out(planner, i, *refused);
      last_refusal = std::move(refused);
    }
  }
}

/// The hops an association may still pick: those not left out of UDP.
std::vector<bool> udp_hops(const chain::Planner& planner) {
  std::vector<bool> mask(planner.hops().size());
  for (std::size_t i = 0; i < mask.size(); ++i) {
    mask[i] = !planner.without_udp(i);
  }
  return mask;
}

bool none_of(const std::vector<bool>& mask) {
  return std::none_of(mask.begin(), mask.end(), [](bool u) { return u; });
}

/// The failure once no hop of the list carries UDP: the last refusal seen, if any.
Association::Opened none_left(const chain::Planner& planner,
                              const std::optional<chain::ChainError>& last_refusal) {
  const auto& all = planner.hops();
  chain::ChainError e;
  if (last_refusal) {
    e = *last_refusal;
    e.detail +=
        std::string(e.detail.empty() ? "" : "; ") + "no other hop of the list carries UDP either";
  } else {
    // Every hop was left out by earlier associations, which said why.
    e.hop = 1;
    e.hops = all.size();
    e.where = all.front()->redacted;
    e.stage = proto::Stage::request;
    e.ec = UdpErrc::no_udp_hop;
  }
  return Association::Opened{nullptr, std::move(e), std::nullopt, false};
}

/// One attempt: an association through the hops `used` (indices into `all`), in that order.
awaitable<Association::Opened> open_through(const chain::Hops& all,
                                            const std::vector<std::size_t>& used,
                                            chain::Services& services) {
  chain::Hops chosen;
  chosen.reserve(used.size());
  for (const std::size_t i : used) {
    chosen.push_back(all[i]);
  }
  co_return co_await Association::open(std::move(chosen), services);
}

}  // namespace

awaitable<Association::Opened> open_association(const chain::Hops& hops,
                                                chain::Services& services) {
  chain::Planner* planner = services.planner;
  if (planner == nullptr || planner->options().strategy == chain::Strategy::strict) {
    co_return co_await Association::open(hops, services);
  }
  const auto& all = planner->hops();
  std::optional<chain::ChainError> last_refusal;
  leave_out_unfit(*planner, last_refusal);

  std::vector<bool> tried(all.size(), false);
  Association::Opened last{nullptr, std::nullopt, std::nullopt, false};
  const std::size_t attempts = std::max<std::size_t>(planner->options().max_attempts, 1);
  for (std::size_t attempt = 0; attempt < attempts; ++attempt) {
    const std::vector<bool> mask = udp_hops(*planner);
    if (none_of(mask)) {
      co_return none_left(*planner, last_refusal);
    }
    const std::vector<std::size_t> used =
        planner->select(chain::Planner::Clock::now(), tried, mask);
    if (used.empty()) {
      break;
    }
    last = co_await open_through(all, used, services);
    if (!last.error) {
      planner->report_success(used);
      co_return std::move(last);
    }
    if (!last.blamed || *last.blamed >= used.size()) {
      co_return std::move(last);  // nothing another hop would change (a local socket, say)
    }
    const std::size_t culprit = used[*last.blamed];
    tried[culprit] = true;
    if (last.lacks_udp) {
      leave_out(*planner, culprit, *last.error, services.log_tag);  // says it all
      last_refusal = last.error;
    } else {
      planner->report_failure(culprit, chain::Planner::Clock::now());
      if (attempt + 1 < attempts) {
        log::verbose(services.log_tag + last.error->message() + "; retrying without " +
                     all[culprit]->redacted);
      }
    }
  }
  if (last.lacks_udp && none_of(udp_hops(*planner))) {
    co_return none_left(*planner, last_refusal);
  }
  co_return std::move(last);
}

}  // namespace hc::udp
