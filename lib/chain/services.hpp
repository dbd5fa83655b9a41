/// What building a chain needs from the process around it: the resolver, the connect deadline,
/// the pipelining settings and memory, the strategy, where its log lines and verdicts go, and
/// the seam for the first connection.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "base/result.hpp"
#include "chain/pipeline_memory.hpp"
#include "proto/gssapi_context.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::chain {

class ChainObserver;
class Planner;
class ProbeSet;

/// The first connection of a chain, made by Services::connector.
struct FirstConnection {
  std::error_code ec;  ///< set on failure, reported as a connect failure
  std::string detail;  ///< with ec
  std::unique_ptr<transport::Stream> stream;
  tcp::endpoint peer;  ///< what it connected to (the proxy-loop guard asks whether it is us)
};

/// Makes the first connection of a chain, to hop 1 or to the target.
using Connector = std::function<awaitable<FirstConnection>(const proto::HostPort& first)>;

/// A GSS-API client context for the principal SERVICE/HOST of a hop with auth=gssapi.
using GssClientFactory = std::function<Result<std::unique_ptr<proto::GssContext>, std::error_code>(
    const std::string& service, const std::string& host)>;

struct Services {
  dns::Resolver& resolver;
  std::chrono::milliseconds connect_timeout{10'000};
  PipelineMode pipeline_mode = PipelineMode::never;
  /// What is known about hops and pipelining; null = nothing is learnt or remembered.
  PipelineMemory* pipeline_memory = nullptr;
  /// Strategy and hop health (chain/strategy.hpp); used by open_chain_with_strategy only.
  Planner* planner = nullptr;
  /// Owns the pipelining probes open_chain starts (automatic mode); null = none is started.
  ProbeSet* probes = nullptr;
  /// Where the chain's progress goes; null = a ChainLog per attempt (chain/chain_log.hpp).
  ChainObserver* observer = nullptr;
  /// Replaces resolving, the proxy-loop guard and the TCP connect of the first connection
  /// (tests: a scripted stream). Unset = a TCP connection.
  Connector connector = {};
  /// Makes the security context of each GSS-API hop (tests: a fake mechanism). Unset =
  /// Kerberos, with the user's ticket (KRB5CCNAME).
  GssClientFactory gss_client = {};
  /// When the hops are the first ones of a longer chain and the target is the next hop (a UDP
  /// association's control connections): that chain's length, so logs number hops out of it.
  std::size_t label_hops = 0;
  /// With label_hops: the redacted URL of the hop that is the target, so that a connection to
  /// it is logged with its scheme like any other hop.
  std::string target_hop = {};
  /// Starts each log line about this chain: "[c12] " for one connection of a serving mode (each
  /// connection works on its own copy of Services), "probe " for a pipelining probe.
  std::string log_tag = {};
  /// With no hop: asked about every address the target resolved to, right before connecting; a
  /// reason refuses that address (the SOCKS server's rules, checked on exactly what is connected
  /// to). When every address is refused the chain fails with ChainErrc::not_allowed. Only for
  /// services whose hop-less chains all go to a client's target: with hops, a UDP association's
  /// control connection and a pipelining probe open hop-less chains to hop 1.
  std::function<std::optional<std::string>(const asio::ip::address&)> target_check = {};
};

}  // namespace hc::chain
