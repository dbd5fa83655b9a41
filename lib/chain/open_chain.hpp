/// Builds a tunnel through a chain of hops: connect to hop 1, run hop 1's handshake asking for
/// hop 2, run hop 2's handshake through that tunnel, and so on; the last hop is asked for the
/// target. The result is a stream to the target, or a ChainError naming the hop that failed.
/// A TLS hop (https, socks*+tls) gets its TLS session over the tunnel built so far, before its
/// proxy handshake; consecutive TLS hops nest TLS in TLS.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_error.hpp"
#include "chain/hop.hpp"
#include "chain/pipeline_memory.hpp"
#include "proto/proxy_url.hpp"
#include "proto/step.hpp"
#include "proto/types.hpp"
#include "transport/first_bytes.hpp"
#include "transport/stream.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::chain {

class Planner;

struct Services {
  dns::Resolver& resolver;
  std::chrono::milliseconds connect_timeout{10'000};
  PipelineMode pipeline_mode = PipelineMode::never;
  /// What is known about hops and pipelining; null = nothing is learnt or remembered.
  PipelineMemory* pipeline_memory = nullptr;
  /// Strategy and hop health (chain/strategy.hpp); used by open_chain_with_strategy only.
  Planner* planner = nullptr;
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

/// When each step of one hop completed, measured from the start of the attempt that built the
/// chain. A pipelined batch is written at once and its replies read in order, so its hops
/// complete at nearly the same moment: `tunnel` is when this hop's reply was checked.
struct HopTiming {
  std::string hop;                                  ///< redacted URL
  std::optional<std::chrono::microseconds> tls;     ///< TLS session up (TLS hops)
  std::optional<std::chrono::microseconds> tunnel;  ///< reply checked: tunnel to the next open
  bool pipelined = false;                           ///< its handshake went out in one write
};

struct ChainTiming {
  std::optional<std::chrono::microseconds> connected;  ///< first TCP connection (hop 1 or target)
  std::vector<HopTiming> hops;                         ///< path order, as used
  std::string target;                                  ///< host:port
  std::chrono::microseconds total{0};                  ///< the whole attempt, target reached
};

struct ChainResult {
  std::unique_ptr<transport::Stream> stream;  ///< set on success
  std::optional<ChainError> error;            ///< set on failure
  ChainTiming timing;                         ///< filled on success
  /// How many of the user's first bytes went glued to the last hop's request; the rest of
  /// FirstBytes::bytes() is still to be written. Set on failure too: bytes that went out may
  /// have reached the target, so a retry must not send them again unless the user allowed it.
  std::size_t first_bytes_sent = 0;
};

/// `hops` in path order (first = nearest); an empty chain connects to `target` directly.
/// `first_bytes`: the user's bytes so far, polled when the batch holding the last hop's request
/// is written and sent behind that request where the hop takes them (optimistic data).
awaitable<ChainResult> open_chain(Hops hops, proto::HostPort target, Services& services,
                                  transport::FirstBytes* first_bytes = nullptr);

/// Whether the user's first bytes may travel right behind `last_hop`'s request when that request
/// is written pipelined.
bool takes_optimistic_data(const proto::HopSpec& last_hop);

/// The codec that asks `hop` for `next`. `next.host` must already be an address for hops that
/// do not take names (socks4, socks5). `pipelined`: the whole request sequence in one write.
std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next,
                                                 bool pipelined = false);

/// Checks whether the last of `hops` parses a pipelined handshake (greeting, auth and request in
/// one write), reaching it through the ones before it. Asks it for 127.0.0.1:1, which fails fast
/// everywhere: any complete reply means it parsed everything; only the method reply and then
/// silence means it dropped the rest (microsocks).
awaitable<PipelineVerdict> probe_pipelining(Hops hops, Services& services);

}  // namespace hc::chain
