/// The attempt engine's state, shared by the files that implement it: chain_attempt.cpp (the
/// connection, the batches of handshakes and their replies), attempt_layers.cpp (a hop's TLS
/// session and GSS-API context) and attempt_feeding.cpp (the user's bytes while replies come).
/// Not for use outside lib/chain: attempt_chain (chain_attempt.hpp) is the interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "chain/chain_attempt.hpp"
#include "chain/hop_steps.hpp"
#include "proto/step.hpp"
#include "transport/first_bytes.hpp"
#include "transport/readiness_wait.hpp"

namespace hc::chain {

using Clock = std::chrono::steady_clock;
/// Set when a step failed: the attempt ends with it.
using Failure = std::optional<ChainError>;

/// Consecutive hops whose handshakes go out together: with pipelining, in one write, their
/// replies then read in order, so a chain costs one round trip per link instead of two or three
/// per hop; without, a batch is a single hop.
struct Batch {
  std::size_t begin = 0;  ///< 0-based, first hop of the batch
  std::size_t end = 0;    ///< one past its last hop
  bool pipelined = false;
  bool optimistic = false;  ///< the user's first bytes ride behind the chain's last request
  Clock::time_point started;
  std::vector<std::unique_ptr<proto::Handshake>> codecs;  ///< one per hop
  std::vector<proto::HostPort> nexts;                     ///< what each hop is asked for
  std::vector<std::uint8_t> bytes;                        ///< the pipelined write
  bool prepared = false;    ///< prepare_batch ran (early, for TLS early data)
  bool sent_early = false;  ///< `bytes` went as the TLS hop's early data, and it took them
};

class Attempt {
 public:
  Attempt(const Hops& hops, const proto::HostPort& target, Services& services,
          ChainObserver& observer, transport::FirstBytes* first_bytes)
      : hops_(hops),
        target_(target),
        services_(services),
        observer_(observer),
        first_bytes_(first_bytes) {}

  awaitable<AttemptOutcome> run();

 private:
  awaitable<Failure> connect_first();
  awaitable<Failure> connect_tcp(const proto::HostPort& first, std::size_t hop);
  awaitable<Failure> start_tls_for(std::size_t index);
  bool hello_rides(const Batch& batch) const;
  awaitable<Failure> begin_hello(Batch& batch);
  awaitable<Failure> prepare_early_data(std::size_t tls_hop);
  std::string early_note(std::size_t index, const TlsOutcome& outcome) const;
  awaitable<Failure> start_gssapi_for(std::size_t index);
  Batch plan_batch(std::size_t begin) const;
  awaitable<Failure> prepare_batch(Batch& batch);
  awaitable<Failure> run_batch(Batch& batch);
  awaitable<std::error_code> write(std::span<const std::uint8_t> bytes);
  awaitable<Failure> send_after_early_data(const Batch& batch);
  awaitable<std::error_code> write_more_user_bytes();
  std::vector<std::uint8_t> take_user_bytes();
  awaitable<Failure> read_replies(Batch& batch);
  awaitable<Failure> read_replies_feeding(Batch& batch);
  awaitable<void> feed_user_bytes(transport::ReadinessWait& local_ready);
  awaitable<Failure> read_reply(Batch& batch, std::size_t k);
  awaitable<ChainError> reply_failure(const Batch& batch, std::size_t k,
                                      const proto::Handshake& codec, proto::Stage stage,
                                      std::error_code failure, bool answered, std::size_t received);
  ChainError hop_failure(std::size_t hop, proto::Stage stage, std::error_code ec,
                         std::string detail) const;
  bool pipelines(const proto::HopSpec& hop) const;
  std::chrono::microseconds since_start() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
  }

  const Hops& hops_;
  const proto::HostPort& target_;
  Services& services_;
  ChainObserver& observer_;
  transport::FirstBytes* first_bytes_;
  Clock::time_point started_ = Clock::now();
  ChainTiming timing_;
  std::unique_ptr<transport::Stream> stream_;
  asio::ip::address first_peer_;
  std::size_t first_bytes_sent_ = 0;  ///< the user's bytes written before the last reply
  std::size_t with_request_ = 0;      ///< of them, in the same write as the last request
  bool pipelining_failed_ = false;
  std::optional<EarlyTls> early_tls_;  ///< the next TLS hop's session, its hello sent early
  Clock::time_point early_tls_started_;
  std::optional<Batch> early_batch_;  ///< the batch after it, prepared to go as early data
};

}  // namespace hc::chain
