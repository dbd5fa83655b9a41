// A hop's own layers in an attempt: its TLS session (with the ClientHello sent early when it
// can ride with the previous hop's request) and its GSS-API context.
#include "chain/attempt.hpp"
#include "chain/gss_hop.hpp"

namespace hc::chain {

/// A TLS hop gets its session over the tunnel so far, before its proxy handshake; when its
/// ClientHello went with the previous hop's request, the handshake goes on from there.
awaitable<Failure> Attempt::start_tls_for(std::size_t index) {
  const Hop& hop = *hops_[index];
  if (hop.spec.tls_options.insecure) {
    observer_.on_insecure_tls(index + 1);
  }
  auto started = Clock::now();
  TlsOutcome outcome;
  if (early_tls_) {
    started = early_tls_started_;
    outcome = co_await finish_early_tls(*early_tls_, stream_, services_.connect_timeout);
    early_tls_.reset();
    outcome.session += early_note(index, outcome);
    if (early_batch_ && !outcome.early_data_accepted) {
      early_batch_->sent_early = false;  // dropped unread: run_batch writes it now
    }
  } else {
    outcome = co_await start_tls(stream_, hop.spec, hop.tls.get(), services_.connect_timeout);
  }
  if (outcome.ec) {
    co_return hop_failure(index + 1, proto::Stage::tls, outcome.ec, std::move(outcome.detail));
  }
  timing_.hops[index].tls = since_start();
  observer_.on_tls(index + 1, outcome.session, started);
  co_return std::nullopt;
}

/// A TLS hop right behind a pipelined batch: its ClientHello can follow the batch's last request,
/// which the hop before reads exactly and then relays what follows (a SOCKS server; not HTTP
/// CONNECT, see takes_optimistic_data), as it would the next hop's pipelined request.
bool Attempt::hello_rides(const Batch& batch) const {
  return batch.pipelined && batch.end < hops_.size() && hops_[batch.end]->spec.tls &&
         takes_optimistic_data(hops_[batch.end - 1]->spec);
}

/// The next TLS hop's first flight, made now and added to the batch's write: its ClientHello,
/// and with `early-data=1` its own batch of handshakes as TLS 1.3 early data when the session
/// offered allows it. Never the user's bytes: early data can be replayed.
awaitable<Failure> Attempt::begin_hello(Batch& batch) {
  const Hop& hop = *hops_[batch.end];
  early_tls_started_ = Clock::now();
  const auto executor = co_await asio::this_coro::executor;
  EarlyTls early = begin_early_tls(hop.spec, hop.tls.get(), stream_->bottom(), executor);
  const auto tls_failure = [&] {
    return hop_failure(batch.end + 1, proto::Stage::tls, early.failure->ec,
                       std::move(early.failure->detail));
  };
  if (early.failure) {
    co_return tls_failure();
  }
  // Not for a GSS-API hop: its request goes through a context that the handshake sets up first.
  if (hop.spec.tls_options.early_data && !hop.spec.gssapi.enabled &&
      early.session->early_data_allowed()) {
    Failure failed = co_await prepare_early_data(batch.end);
    if (failed) {
      co_return failed;
    }
  }
  make_first_flight(early, early_batch_ ? early_batch_->bytes : std::vector<std::uint8_t>{});
  if (early.failure) {
    co_return tls_failure();
  }
  if (early_batch_) {
    early_batch_->sent_early = early.early_sent;
  }
  batch.bytes.insert(batch.bytes.end(), early.hello.begin(), early.hello.end());
  early_tls_ = std::move(early);
  co_return std::nullopt;
}

/// The batch that starts at TLS hop `tls_hop`, prepared now to go as its early data (if the
/// session allows that much; else it is written after the handshake, as usual).
awaitable<Failure> Attempt::prepare_early_data(std::size_t tls_hop) {
  Batch next = plan_batch(tls_hop);
  if (!next.pipelined) {
    co_return std::nullopt;
  }
  Failure failed = co_await prepare_batch(next);
  next.prepared = true;
  early_batch_ = std::move(next);
  co_return failed;
}

/// How the TLS hop at `index` (0-based) began: for -v.
std::string Attempt::early_note(std::size_t index, const TlsOutcome& outcome) const {
  std::string note = " (ClientHello sent with hop " + std::to_string(index) + "'s request";
  if (early_batch_ && early_batch_->sent_early) {
    note += outcome.early_data_accepted
                ? ", hop " + std::to_string(index + 1) + "'s handshake as early data, accepted"
                : ", early data refused: hop " + std::to_string(index + 1) + "'s handshake follows";
  }
  return note + ")";
}

/// A GSS-API hop authenticates before its request, and its protection layer (if any) then
/// carries the request and everything after it.
awaitable<Failure> Attempt::start_gssapi_for(std::size_t index) {
  const auto started = Clock::now();
  GssOutcome outcome = co_await start_gssapi(stream_, hops_[index]->spec, services_.gss_client,
                                             services_.connect_timeout);
  if (outcome.ec) {
    co_return hop_failure(index + 1, outcome.stage, outcome.ec, std::move(outcome.detail));
  }
  timing_.hops[index].gssapi = proto::protection_name(outcome.level);
  observer_.on_gssapi(index + 1, outcome.principal, outcome.level, started);
  co_return std::nullopt;
}

}  // namespace hc::chain
