#include "chain/chain_attempt.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "chain/attempt.hpp"
#include "chain/handshake.hpp"
#include "chain/loop_guard.hpp"
#include "chain/refusal_body.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "proto/errors.hpp"
#include "transport/connect.hpp"
#include "transport/deadline.hpp"
#include "transport/prefixed_stream.hpp"
#include "transport/tls_stream.hpp"

namespace hc::chain {
namespace {

using log::seconds_text;

// How long a refusing HTTP proxy's body may take to arrive (it follows the head at once).
constexpr std::chrono::milliseconds kRefusalWait{250};

/// With no hop: leaves out the addresses Services::target_check refuses; returns why the first
/// one was refused.
std::string drop_refused(std::vector<asio::ip::address>& addresses, const Services& services) {
  std::string refused;
  std::erase_if(addresses, [&](const asio::ip::address& a) {
    auto reason = services.target_check(a);
    if (reason && refused.empty()) {
      refused = a.to_string() + " is " + *reason;
    }
    return reason.has_value();
  });
  return refused;
}

/// A hop that granted its tunnel and hung up before the next hop said a word.
bool ended_early(std::error_code ec) {
  return ec == ChainErrc::closed_during_handshake || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

}  // namespace

awaitable<AttemptOutcome> Attempt::run() {
  timing_.target = target_.to_string();
  for (const auto& hop : hops_) {
    timing_.hops.push_back(HopTiming{hop->redacted, {}, {}, false, {}});
  }
  Failure failed = co_await connect_first();
  for (std::size_t i = 0; !failed && i < hops_.size();) {
    if (hops_[i]->spec.tls) {
      failed = co_await start_tls_for(i);
      if (failed) {
        break;
      }
    }
    if (hops_[i]->spec.gssapi.enabled) {
      failed = co_await start_gssapi_for(i);
      if (failed) {
        break;
      }
    }
    Batch batch = early_batch_ ? std::move(*early_batch_) : plan_batch(i);
    early_batch_.reset();
    if (!batch.prepared) {
      failed = co_await prepare_batch(batch);
    }
    if (!failed) {
      failed = co_await run_batch(batch);
    }
    i = batch.end;
  }
  AttemptOutcome out;
  out.result.first_bytes_sent = first_bytes_sent_;
  out.result.first_bytes_with_request = with_request_;
  out.pipelining_failed = pipelining_failed_;
  if (failed) {
    out.result.error = std::move(failed);
    co_return out;
  }
  timing_.total = since_start();
  out.result.stream = std::move(stream_);
  out.result.timing = std::move(timing_);
  out.result.path = hops_;
  co_return out;
}

/// The first TCP connection: to hop 1, or to the target when there is no hop.
awaitable<Failure> Attempt::connect_first() {
  const proto::HostPort& first = hops_.empty() ? target_ : hops_[0]->spec.server;
  const std::size_t hop = hops_.empty() ? 0 : 1;
  const auto started = Clock::now();
  tcp::endpoint peer;
  if (services_.connector) {
    FirstConnection c = co_await services_.connector(first);
    if (c.ec) {
      co_return hop_failure(hop, proto::Stage::connect, c.ec, std::move(c.detail));
    }
    stream_ = std::move(c.stream);
    peer = c.peer;
  } else {
    Failure failed = co_await connect_tcp(first, hop);
    if (failed) {
      co_return failed;
    }
    std::error_code no_peer;
    peer = stream_->bottom()->remote_endpoint(no_peer);
  }
  timing_.connected = since_start();
  first_peer_ = peer.address();
  observer_.on_connected(peer, started);
  co_return std::nullopt;
}

/// Resolves `first`, refuses this process's own listeners (and, with no hop, the addresses the
/// target check refuses), then connects to the first address that answers.
awaitable<Failure> Attempt::connect_tcp(const proto::HostPort& first, std::size_t hop) {
  Resolved resolved = co_await resolve(services_.resolver, first.host);
  if (resolved.ec) {
    co_return hop_failure(hop, proto::Stage::resolve, resolved.ec, first.host);
  }
  if (hop == 0 && services_.target_check) {
    const std::string refused = drop_refused(resolved.addresses, services_);
    if (resolved.addresses.empty()) {
      co_return hop_failure(0, proto::Stage::connect, ChainErrc::not_allowed, refused);
    }
  }
  if (const auto own = own_listener_among(resolved.addresses, first.port)) {
    co_return hop_failure(hop, proto::Stage::connect, ChainErrc::own_listener,
                          proto::is_ipv4_literal(first.host) || proto::is_ipv6_literal(first.host)
                              ? std::string()
                              : own->address().to_string());
  }
  tcp::socket socket(co_await asio::this_coro::executor);
  const std::error_code ec = co_await transport::connect_any(socket, resolved.addresses, first.port,
                                                             services_.connect_timeout);
  if (ec) {
    co_return hop_failure(hop, proto::Stage::connect, ec,
                          ec == asio::error::timed_out
                              ? "no answer within " + seconds_text(services_.connect_timeout)
                              : "");
  }
  stream_ = std::make_unique<transport::TcpStream>(std::move(socket));
  co_return std::nullopt;
}

bool Attempt::pipelines(const proto::HopSpec& hop) const {
  if (services_.pipeline_memory != nullptr) {
    return services_.pipeline_memory->pipelines(hop, services_.pipeline_mode);
  }
  return services_.pipeline_mode == PipelineMode::always;
}

Batch Attempt::plan_batch(std::size_t begin) const {
  Batch batch;
  batch.started = Clock::now();
  batch.begin = begin;
  batch.pipelined = pipelines(hops_[begin]->spec);
  batch.end = begin + 1;
  // A TLS or GSS-API hop needs its own round trips first, so it starts a new batch.
  while (batch.pipelined && batch.end < hops_.size() && !hops_[batch.end]->spec.tls &&
         !hops_[batch.end]->spec.gssapi.enabled && pipelines(hops_[batch.end]->spec)) {
    ++batch.end;
  }
  // Sequential, only behind a server seen to read exactly its request (one that took a pipelined
  // handshake): microsocks reads the request with whatever follows and drops the rest.
  const proto::HopSpec& last = hops_.back()->spec;
  batch.optimistic =
      batch.end == hops_.size() && first_bytes_ != nullptr && takes_optimistic_data(last) &&
      (batch.pipelined || (services_.pipeline_memory != nullptr &&
                           services_.pipeline_memory->verdict(last) == PipelineVerdict::accepts));
  return batch;
}

/// What each hop of the batch is asked for (resolved here for hops that take addresses only),
/// its codec, and with pipelining the bytes of every request.
awaitable<Failure> Attempt::prepare_batch(Batch& batch) {
  for (std::size_t k = batch.begin; k < batch.end; ++k) {
    const proto::HopSpec& hop = hops_[k]->spec;
    proto::HostPort next = k + 1 < hops_.size() ? hops_[k + 1]->spec.server : target_;
    if (!hop.remote_dns && !proto::is_ipv4_literal(next.host) &&
        !proto::is_ipv6_literal(next.host)) {
      Resolved r = co_await resolve_for_hop(services_.resolver, hop, next.host);
      if (r.ec) {
        co_return hop_failure(k + 1, proto::Stage::resolve, r.ec, next.host);
      }
      observer_.on_resolved_here(k + 1, next.host, r.addresses.front());
      next.host = r.addresses.front().to_string();
    }
    if (hop_loops_back(hops_, k, next, first_peer_)) {
      co_return hop_failure(k + 1, proto::Stage::request, ChainErrc::own_listener,
                            next.to_string());
    }
    auto codec = make_handshake(hop, next, batch.pipelined);
    if (batch.pipelined) {
      proto::Step first_step = codec->start();
      if (first_step.kind == proto::Step::Kind::fail) {
        co_return hop_failure(k + 1, first_step.stage, first_step.ec, codec->detail());
      }
      batch.bytes.insert(batch.bytes.end(), first_step.bytes.begin(), first_step.bytes.end());
    }
    batch.codecs.push_back(std::move(codec));
    batch.nexts.push_back(std::move(next));
  }
  co_return std::nullopt;
}

/// Everything the batch writes goes out from here: the pipelined requests with the user's
/// first bytes behind the last one, and later user bytes while the replies come. A sequential
/// hop's handshake writes its steps through run_handshake, called from read_reply, and the last
/// one takes the user's bytes behind its request there.
awaitable<Failure> Attempt::run_batch(Batch& batch) {
  Failure failed;
  if (batch.pipelined && !batch.sent_early) {
    if (batch.optimistic) {
      // The last request is on its way: bytes behind it reach the target as soon as the last
      // hop has connected, a round trip earlier than after its reply.
      const std::vector<std::uint8_t> early = take_user_bytes();
      batch.bytes.insert(batch.bytes.end(), early.begin(), early.end());
    }
    if (hello_rides(batch)) {
      failed = co_await begin_hello(batch);
      if (failed) {
        co_return failed;
      }
    }
    observer_.on_batch(batch.begin + 1, batch.end, batch.bytes.size(), first_bytes_sent_);
    if (const std::error_code ec = co_await write(batch.bytes)) {
      co_return hop_failure(batch.begin + 1, proto::Stage::auth, ec, "");
    }
  } else if (batch.sent_early && batch.optimistic) {
    failed = co_await send_after_early_data(batch);
    if (failed) {
      co_return failed;
    }
  }
  if (batch.optimistic && batch.pipelined) {
    failed = co_await read_replies_feeding(batch);
  } else {
    failed = co_await read_replies(batch);
  }
  for (std::size_t k = batch.begin; !failed && batch.pipelined && k < batch.end; ++k) {
    observer_.on_pipelining_verdict(*hops_[k], PipelineVerdict::accepts);
  }
  co_return failed;
}

/// The batch's handshakes went as TLS early data, which a replay could send again: the user's
/// bytes never do. They go now, right after the TLS handshake, still ahead of the replies.
awaitable<Failure> Attempt::send_after_early_data(const Batch& batch) {
  first_bytes_->poll();
  if (const std::error_code ec = co_await write_more_user_bytes()) {
    co_return hop_failure(batch.begin + 1, proto::Stage::auth, ec, "");
  }
  co_return std::nullopt;
}

/// What the user sent beyond what the chain carried so far, written now. It counts as sent
/// even when the write fails: some of it may have gone, and a user's byte never goes twice.
awaitable<std::error_code> Attempt::write_more_user_bytes() {
  const auto more = first_bytes_->bytes().subspan(first_bytes_sent_);
  if (more.empty()) {
    co_return std::error_code{};
  }
  first_bytes_sent_ += more.size();
  observer_.on_more_user_bytes(more.size());
  co_return co_await write(more);
}

awaitable<std::error_code> Attempt::write(std::span<const std::uint8_t> bytes) {
  auto written = co_await transport::with_deadline(*stream_->bottom(), services_.connect_timeout,
                                                   stream_->write_all(bytes));
  co_return written ? std::get<0>(*written) : make_error_code(ChainErrc::timed_out);
}

/// What the user sent and the chain did not carry yet, polled now, counted as sent.
std::vector<std::uint8_t> Attempt::take_user_bytes() {
  first_bytes_->poll();
  const auto more = first_bytes_->bytes().subspan(first_bytes_sent_);
  first_bytes_sent_ += more.size();
  with_request_ += more.size();
  return {more.begin(), more.end()};
}

/// The batch's replies in order.
awaitable<Failure> Attempt::read_replies(Batch& batch) {
  Failure failed;
  for (std::size_t k = batch.begin; !failed && k < batch.end; ++k) {
    failed = co_await read_reply(batch, k);
  }
  co_return failed;
}

awaitable<Failure> Attempt::read_reply(Batch& batch, std::size_t k) {
  proto::Handshake& codec = *batch.codecs[k - batch.begin];
  proto::Stage stage = proto::Stage::auth;
  std::size_t received = 0;
  auto outcome = co_await transport::with_deadline(
      *stream_->bottom(), services_.connect_timeout,
      run_handshake(
          *stream_, codec, stage, batch.pipelined, &received,
          batch.optimistic && !batch.pipelined
              ? std::function<std::vector<std::uint8_t>()>([this] { return take_user_bytes(); })
              : nullptr));
  const std::error_code failure = outcome ? *outcome : ChainErrc::timed_out;
  if (failure) {
    co_return co_await reply_failure(batch, k, codec, stage, failure, outcome.has_value(),
                                     received);
  }
  timing_.hops[k].tunnel = since_start();
  timing_.hops[k].pipelined = batch.pipelined;
  observer_.on_tunnel(k + 1, batch.nexts[k - batch.begin], batch.started, batch.pipelined);
  const auto leftover = codec.leftover();
  if (!leftover.empty()) {
    // Payload that came glued to the reply (an SSH banner, or with pipelining the next hop's
    // replies): it belongs to whatever reads next.
    stream_ = std::make_unique<transport::PrefixedStream>(
        std::move(stream_), std::vector<std::uint8_t>(leftover.begin(), leftover.end()));
  }
  co_return std::nullopt;
}

/// Hop k+1's handshake failed at `stage`; `answered`: the reply did not time out.
awaitable<ChainError> Attempt::reply_failure(const Batch& batch, std::size_t k,
                                             const proto::Handshake& codec, proto::Stage stage,
                                             std::error_code failure, bool answered,
                                             std::size_t received) {
  const bool automatic = batch.pipelined && services_.pipeline_mode == PipelineMode::automatic;
  // A TLS or GSS-API hop already answered before its request.
  if (k > 0 && received == 0 && !hops_[k]->spec.tls && !hops_[k]->spec.gssapi.enabled &&
      ended_early(failure)) {
    // Hop k granted its tunnel, which then ended before hop k+1 said a word: what a hop that
    // grants before it connects (OpenSSH -D) does when its connect fails. Hop k is to blame.
    if (automatic && services_.pipeline_memory != nullptr) {
      observer_.on_pipelining_verdict(*hops_[k], PipelineVerdict::refuses);
      pipelining_failed_ = true;
    }
    co_return hop_failure(k, proto::Stage::relay, ChainErrc::ended_before_first_byte,
                          "before hop " + std::to_string(k + 1) + " answered");
  }
  std::string detail =
      answered ? codec.detail() : "no answer within " + seconds_text(services_.connect_timeout);
  if (automatic &&
      (failure == ChainErrc::timed_out || failure == ChainErrc::closed_during_handshake)) {
    // It used to accept pipelining and now drops it: stop pipelining it.
    observer_.on_pipelining_verdict(*hops_[k], PipelineVerdict::refuses);
    pipelining_failed_ = true;
  }
  std::error_code reason = failure;
  if (hops_[k]->spec.tls && answered) {
    reason = co_await tls_reason(*stream_, reason, services_.connect_timeout);
    if (transport::is_tls_error(reason)) {
      stage = proto::Stage::tls;
    }
  }
  if (reason.category() == proto::http_status_category()) {
    // The status line, and what the body adds to it ("... unable to connect ...").
    const std::string words = co_await refusal_words(*stream_, codec, detail, kRefusalWait);
    detail += words.empty() ? "" : ": " + words;
  }
  co_return hop_failure(k + 1, stage, reason, std::move(detail));
}

/// Every ChainError of an attempt is made here. `hop`: 1-based, 0 for the target itself.
ChainError Attempt::hop_failure(std::size_t hop, proto::Stage stage, std::error_code ec,
                                std::string detail) const {
  const std::size_t count = hops_.size();
  if (hop == 0) {
    return ChainError::of_target(target_.to_string(), count, stage, ec, std::move(detail));
  }
  ChainError e =
      ChainError::of_hop(hop, count, hops_[hop - 1]->redacted, stage, ec, std::move(detail));
  if (stage == proto::Stage::request) {
    // Hop `hop` was asked for the next hop's address, or for the target's (which is the next
    // hop itself for a UDP association's control connection).
    const bool next_is_hop = hop < count || services_.label_hops > count;
    const std::string next =
        hop < count ? hops_[hop]->spec.server.to_string() : target_.to_string();
    e.asked =
        next_is_hop ? "hop " + std::to_string(hop + 1) + " (" + next + ")" : "the target " + next;
  }
  return e;
}

awaitable<AttemptOutcome> attempt_chain(const Hops& hops, const proto::HostPort& target,
                                        Services& services, ChainObserver& observer,
                                        transport::FirstBytes* first_bytes) {
  Attempt attempt(hops, target, services, observer, first_bytes);
  co_return co_await attempt.run();
}

}  // namespace hc::chain
