/// Builds a tunnel through a chain of hops: connect to hop 1, run hop 1's handshake asking for
/// hop 2, run hop 2's handshake through that tunnel, and so on; the last hop is asked for the
/// target. The result is a stream to the target, or a ChainError naming the hop that failed.
/// A TLS hop (https, socks*+tls) gets its TLS session over the tunnel built so far, before its
/// proxy handshake; consecutive TLS hops nest TLS in TLS.
///
/// The entry points, from the outside in:
///   open_chain_with_strategy (chain/strategy.hpp)  picks the hops through the Planner and
///       tries other hops after a hop failure (bounded);
///   open_chain (here)  one given list of hops: an attempt, one sequential retry when a
///       pipelined hop dropped its handshake, and probes of hops not known yet;
///   attempt_chain (chain/chain_attempt.hpp)  one attempt, nothing retried or probed.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_error.hpp"
#include "chain/hop.hpp"
#include "chain/pipeline_memory.hpp"
#include "chain/services.hpp"
#include "proto/proxy_url.hpp"
#include "proto/step.hpp"
#include "proto/types.hpp"
#include "transport/first_bytes.hpp"
#include "transport/stream.hpp"

namespace hc::chain {

/// When each step of one hop completed, measured from the start of the attempt that built the
/// chain. A pipelined batch is written at once and its replies read in order, so its hops
/// complete at nearly the same moment: `tunnel` is when this hop's reply was checked.
struct HopTiming {
  std::string hop;                                  ///< redacted URL
  std::optional<std::chrono::microseconds> tls;     ///< TLS session up (TLS hops)
  std::optional<std::chrono::microseconds> tunnel;  ///< reply checked: tunnel to the next open
  bool pipelined = false;                           ///< its handshake went out in one write
  std::string gssapi;  ///< GSS-API hops: the protection level the server selected
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
  Hops path;                                  ///< on success: the hops used, in path order
  /// How many of the user's first bytes went glued to the last hop's request; the rest of
  /// FirstBytes::bytes() is still to be written. Set on failure too: bytes that went out may
  /// have reached the target, so a retry must not send them again unless the user allowed it.
  std::size_t first_bytes_sent = 0;
  /// Of first_bytes_sent, those in the same write as the last hop's request (the rest went
  /// while its reply was awaited).
  std::size_t first_bytes_with_request = 0;
};

/// `hops` in path order (first = nearest); an empty chain connects to `target` directly.
/// `first_bytes`: the user's bytes so far, polled when the last hop's request is written and sent
/// behind it where the hop takes them (optimistic data); with a pipelined last request, what the
/// user sends while the replies come follows at once.
/// When an attempt fails because a pipelined hop dropped its handshake, and nothing of the
/// user's went out (or the blamed hop has grants-early=1), one sequential attempt follows.
/// After a success in automatic pipelining mode, plain SOCKS5 hops not known yet are probed in
/// the background (Services::probes owns the probes).
awaitable<ChainResult> open_chain(Hops hops, proto::HostPort target, Services& services,
                                  transport::FirstBytes* first_bytes = nullptr);

/// Whether the user's first bytes may travel right behind `last_hop`'s request.
bool takes_optimistic_data(const proto::HopSpec& last_hop);

/// The codec that asks `hop` for `next`. `next.host` must already be an address for hops that
/// do not take names (socks4, socks5). `pipelined`: the whole request sequence in one write.
std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next,
                                                 bool pipelined = false);

}  // namespace hc::chain
