#include "chain/chain_log.hpp"

#include <algorithm>

#include "log/durations.hpp"
#include "log/log.hpp"

namespace hc::chain {

using log::ms_since;

ChainLog::ChainLog(const Services& services, const Hops& hops, const proto::HostPort& target)
    : services_(services),
      hops_(hops),
      target_(target),
      shown_(std::max(hops.size(), services.label_hops)) {}

std::string ChainLog::label(std::size_t hop) const {
  return hop_label(hop, shown_, hops_[hop - 1]->redacted);
}

void ChainLog::on_connected(const tcp::endpoint& peer, TimePoint started) {
  if (!log::enabled(log::Level::verbose)) {
    return;
  }
  // With no hop of its own, a chain whose target is a hop (label_hops) names that hop.
  const std::string whom =
      !hops_.empty() ? label(1)
      : shown_ > 0   ? "hop 1/" + std::to_string(shown_) + " " +
                         (services_.target_hop.empty() ? target_.to_string() : services_.target_hop)
                   : "target " + target_.to_string();
  log::verbose(services_.log_tag + whom + ": connected to " + peer.address().to_string() + " in " +
               ms_since(started));
}

void ChainLog::on_resolved_here(std::size_t hop, const std::string& host,
                                const asio::ip::address& address) {
  log::verbose(services_.log_tag + label(hop) + ": resolved " + host + " to " +
               address.to_string() + " here (the scheme takes addresses)");
}

void ChainLog::on_insecure_tls(std::size_t hop) {
  log::info(services_.log_tag + "warning: " + label(hop) +
            ": TLS certificate and host name NOT verified (insecure=1)");
}

void ChainLog::on_tls(std::size_t hop, const std::string& session, TimePoint started) {
  log::verbose(services_.log_tag + label(hop) + ": " + session + " in " + ms_since(started));
}

void ChainLog::on_gssapi(std::size_t hop, const std::string& principal, proto::Protection level,
                         TimePoint started) {
  log::verbose(services_.log_tag + label(hop) + ": GSS-API authenticated to " +
               (principal.empty() ? std::string("the server") : principal) + ", protection " +
               proto::protection_name(level) + " in " + ms_since(started));
}

void ChainLog::on_batch(std::size_t first, std::size_t last, std::size_t bytes,
                        std::size_t user_bytes) {
  log::debug(
      services_.log_tag + label(first) + ": writing the handshakes of hops " +
      std::to_string(first) + "-" + std::to_string(last) + " in one go (" + std::to_string(bytes) +
      " bytes" +
      (user_bytes > 0 ? ", " + std::to_string(user_bytes) + " of them the user's" : std::string()) +
      ")");
}

void ChainLog::on_more_user_bytes(std::size_t count) {
  log::debug(services_.log_tag + label(hops_.size()) + ": " + std::to_string(count) +
             " more bytes of the user's behind the request");
}

void ChainLog::on_tunnel(std::size_t hop, const proto::HostPort& next, TimePoint started,
                         bool pipelined) {
  log::verbose(services_.log_tag + label(hop) + ": tunnel to " + next.to_string() + " open in " +
               ms_since(started) + (pipelined ? " (pipelined)" : ""));
}

void ChainLog::on_pipelining_verdict(const Hop& hop, PipelineVerdict verdict) {
  if (services_.pipeline_memory != nullptr && verdict != PipelineVerdict::unknown) {
    services_.pipeline_memory->record(hop.spec, verdict);
  }
}

void ChainLog::on_retry(const ChainError& error) {
  log::verbose(services_.log_tag + error.message() + "; retrying without pipelining that hop");
}

}  // namespace hc::chain

namespace hc::chain {

ChainObserver& observer_for(const Services& services, const Hops& hops,
                            const proto::HostPort& target, std::optional<ChainLog>& fallback) {
  if (services.observer != nullptr) {
    return *services.observer;
  }
  return fallback.emplace(services, hops, target);
}

}  // namespace hc::chain
