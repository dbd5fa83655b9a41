#include "chain/open_chain.hpp"

#include <optional>
#include <string>

#include "chain/chain_attempt.hpp"
#include "chain/chain_log.hpp"
#include "chain/probe.hpp"
#include "chain/probe_set.hpp"
#include "proto/http_connect.hpp"
#include "proto/socks4.hpp"
#include "proto/socks5.hpp"

namespace hc::chain {
namespace {

/// Whether a failed attempt may be made again without pipelining: nothing has reached the user
/// yet, nor (unless the user allowed resending) anything of the user's the target.
bool may_retry_sequentially(const AttemptOutcome& outcome, const Hops& hops) {
  const ChainResult& result = outcome.result;
  return result.error && outcome.pipelining_failed &&
         (result.first_bytes_sent == 0 ||
          (!result.error->at_target() && hops[result.error->hop - 1]->spec.grants_early));
}

/// Learns, off the user's path, whether the SOCKS5 hops we know nothing about would take a
/// pipelined handshake next time.
void start_probes(const Hops& hops, Services& services) {
  if (services.pipeline_mode != PipelineMode::automatic || services.pipeline_memory == nullptr ||
      services.probes == nullptr) {
    return;
  }
  for (std::size_t k = 0; k < hops.size(); ++k) {
    const proto::HopSpec& hop = hops[k]->spec;
    // A GSS-API hop's authentication takes its round trips whatever the probe finds.
    if (hop.protocol == proto::Protocol::socks5 && !hop.tls && !hop.gssapi.enabled &&
        services.pipeline_memory->claim_probe(hop)) {
      services.probes->spawn(learn_pipelining(first_hops(hops, k + 1), services, hops.size()));
    }
  }
}

}  // namespace

std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next, bool pipelined) {
  switch (hop.protocol) {
    case proto::Protocol::socks4:
      return std::make_unique<proto::Socks4Connect>(next, hop.user.value_or(""), hop.remote_dns);
    case proto::Protocol::socks5:
      // A GSS-API hop authenticated before its batch (chain/gss_hop.hpp): the request is left.
      return std::make_unique<proto::Socks5Connect>(
          next, hop.credentials(),
          proto::Socks5Options{
              proto::Socks5Command::connect, pipelined,
              hop.gssapi.enabled ? proto::Socks5Part::request : proto::Socks5Part::whole});
    case proto::Protocol::http:
      return std::make_unique<proto::HttpConnect>(next, hop.credentials());
  }
  return nullptr;
}

bool takes_optimistic_data(const proto::HopSpec& last_hop) {
  // SOCKS servers read exactly the request and relay whatever follows. Not HTTP CONNECT: a proxy
  // may read the request head with a buffered reader and drop what it read past the head, or
  // answer an error and parse the bytes as the next request.
  return last_hop.protocol == proto::Protocol::socks5 ||
         last_hop.protocol == proto::Protocol::socks4;
}

awaitable<ChainResult> open_chain(Hops hops, proto::HostPort target, Services& services,
                                  transport::FirstBytes* first_bytes) {
  std::optional<ChainLog> log;
  ChainObserver& observer = observer_for(services, hops, target, log);
  AttemptOutcome outcome = co_await attempt_chain(hops, target, services, observer, first_bytes);
  if (may_retry_sequentially(outcome, hops)) {
    // The hop that dropped its pipelined handshake is now marked: this attempt is sequential.
    observer.on_retry(*outcome.result.error);
    outcome = co_await attempt_chain(hops, target, services, observer, first_bytes);
  }
  if (!outcome.result.error) {
    start_probes(hops, services);
  }
  co_return std::move(outcome.result);
}

}  // namespace hc::chain
