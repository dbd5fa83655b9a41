/// What the chain engine reports while it builds a chain, and the only way anything leaves it
/// besides its result: log lines, timing and pipelining verdicts go to a ChainObserver, so the
/// engine itself neither logs nor writes the PipelineMemory. Hops are numbered 1-based within
/// the chain being built; ChainLog (chain/chain_log.hpp) is what a connection gets by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "chain/chain_error.hpp"
#include "chain/hop.hpp"
#include "chain/pipeline_memory.hpp"
#include "proto/gssapi_context.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::chain {

class ChainObserver {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~ChainObserver() = default;

  /// The first TCP connection is up (to hop 1, or to the target when there is no hop); the
  /// step began at `started`.
  virtual void on_connected(const tcp::endpoint& /*peer*/, TimePoint /*started*/) {}
  /// Hop `hop` takes addresses only: hopchain resolved `host` to `address` for it.
  virtual void on_resolved_here(std::size_t /*hop*/, const std::string& /*host*/,
                                const asio::ip::address& /*address*/) {}
  /// Hop `hop` verifies nothing (insecure=1): its TLS handshake is about to start.
  virtual void on_insecure_tls(std::size_t /*hop*/) {}
  /// Hop `hop`'s TLS session is up; `session` describes it ("TLSv1.3 ..., verified").
  virtual void on_tls(std::size_t /*hop*/, const std::string& /*session*/, TimePoint /*started*/) {}
  /// Hop `hop` authenticated with GSS-API to `principal` and selected `level`.
  virtual void on_gssapi(std::size_t /*hop*/, const std::string& /*principal*/,
                         proto::Protection /*level*/, TimePoint /*started*/) {}
  /// The handshakes of hops `first`..`last` go out in one write of `bytes` bytes, `user_bytes`
  /// of them the user's first bytes (optimistic data).
  virtual void on_batch(std::size_t /*first*/, std::size_t /*last*/, std::size_t /*bytes*/,
                        std::size_t /*user_bytes*/) {}
  /// `count` more of the user's bytes went out behind the last request.
  virtual void on_more_user_bytes(std::size_t /*count*/) {}
  /// Hop `hop`'s reply was checked: its tunnel to `next` is open.
  virtual void on_tunnel(std::size_t /*hop*/, const proto::HostPort& /*next*/,
                         TimePoint /*started*/, bool /*pipelined*/) {}
  /// What a pipelined handshake showed about `hop` (or what a probe found).
  virtual void on_pipelining_verdict(const Hop& /*hop*/, PipelineVerdict /*verdict*/) {}
  /// The attempt failed with `error` and a sequential attempt follows.
  virtual void on_retry(const ChainError& /*error*/) {}
};

}  // namespace hc::chain
