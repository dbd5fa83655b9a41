/// The default ChainObserver: the log lines a connection's chain has always written (-v, -vv;
/// the integration tests grep them), and pipelining verdicts recorded in Services'
/// PipelineMemory. One per attempt: it numbers hops out of the chain being built, or out of the
/// longer chain this one is the start of (Services::label_hops).
#pragma once

#include <optional>
#include <string>

#include "chain/chain_observer.hpp"
#include "chain/open_chain.hpp"

namespace hc::chain {

class ChainLog final : public ChainObserver {
 public:
  /// `services`, `hops` and `target` must outlive it.
  ChainLog(const Services& services, const Hops& hops, const proto::HostPort& target);

  void on_connected(const tcp::endpoint& peer, TimePoint started) override;
  void on_resolved_here(std::size_t hop, const std::string& host,
                        const asio::ip::address& address) override;
  void on_insecure_tls(std::size_t hop) override;
  void on_tls(std::size_t hop, const std::string& session, TimePoint started) override;
  void on_gssapi(std::size_t hop, const std::string& principal, proto::Protection level,
                 TimePoint started) override;
  void on_batch(std::size_t first, std::size_t last, std::size_t bytes,
                std::size_t user_bytes) override;
  void on_more_user_bytes(std::size_t count) override;
  void on_tunnel(std::size_t hop, const proto::HostPort& next, TimePoint started,
                 bool pipelined) override;
  void on_pipelining_verdict(const Hop& hop, PipelineVerdict verdict) override;
  void on_retry(const ChainError& error) override;

 private:
  /// "hop 2/3 socks5h://b:1080"
  std::string label(std::size_t hop) const;

  const Services& services_;
  const Hops& hops_;
  const proto::HostPort& target_;
  std::size_t shown_;  ///< the length hops are numbered out of
};

}  // namespace hc::chain

namespace hc::chain {

/// services.observer when set, else a ChainLog for this chain, made in `fallback`.
ChainObserver& observer_for(const Services& services, const Hops& hops,
                            const proto::HostPort& target, std::optional<ChainLog>& fallback);

}  // namespace hc::chain
