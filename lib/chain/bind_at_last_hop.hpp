/// SOCKS BIND at the last hop of a chain: the way in for connections to the chain's far end.
/// The chain is built through hops 1..N-1 with hop N as its target (its TLS session on top if
/// it has one), then hop N is asked to BIND (SOCKS5 CMD 0x02, SOCKS4 CD 2). Its two replies are
/// two calls here, so the caller can announce where the hop listens before waiting for a peer:
///
///   auto bind = co_await LastHopBind::open(hops, services, peer);  // first reply: listening()
///   auto peer = co_await bind->accept(timeout);               // second reply: the peer
///   relay(local, bind->stream());
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "chain/chain_error.hpp"
#include "chain/hop.hpp"
#include "chain/services.hpp"
#include "proto/step.hpp"
#include "proto/types.hpp"
#include "transport/stream.hpp"

namespace hc::chain {

/// Refuses, before anything connects, a chain whose last hop cannot BIND (none, or HTTP CONNECT):
/// "hop 2/2 http://p:3128: BIND needs a SOCKS4 or SOCKS5 hop".
std::optional<std::string> bind_refusal(const Hops& hops);

/// True when a failed open() means the last hop does not do BIND at all: it answered REP 0x07
/// (microsocks) or hung up on the request (ssh -D), rather than refusing this one request.
bool bind_unsupported(const ChainError& error);

/// The expected peer when none is known: 0.0.0.0:0 lets any host connect (RFC 1928 leaves the
/// filtering to the server; SOCKS4 servers take 0.0.0.0 as "anyone").
inline const proto::HostPort kAnyPeer{"0.0.0.0", 0};

class LastHopBind {
 public:
  /// Builds the chain to the last hop and reads the first BIND reply, under
  /// services.connect_timeout. `hops` must pass bind_refusal(). `expected_peer` goes into the
  /// request's DST.ADDR/DST.PORT: the host the hop should accept (where the server checks it).
  static awaitable<Result<LastHopBind, ChainError>> open(const Hops& hops, Services& services,
                                                         proto::HostPort expected_peer = kAnyPeer);

  /// Where the hop listens. When the hop answered 0.0.0.0 or ::, the hop's own address as the
  /// chain names it (its URL's host), since that is what "the server's address" means there.
  const proto::HostPort& listening() const { return listening_; }
  /// "0.0.0.0" or "::" when the hop answered that and listening() has its URL's host instead;
  /// empty when the hop named an address.
  const std::string& answered_unspecified() const { return answered_unspecified_; }
  /// The last hop's label, "hop 2/2 socks5://b:1080".
  std::string who() const;
  /// The last hop's redacted URL, "socks5://b:1080".
  const std::string& hop_url() const { return hop_->redacted; }

  /// Waits up to `timeout` for the second reply; returns the connecting host as the hop reports
  /// it. A timeout or a refusal fails at Stage::accept.
  awaitable<Result<proto::HostPort, ChainError>> accept(std::chrono::milliseconds timeout);

  /// Once accept() succeeded: the connection from the peer.
  transport::Stream& stream() { return *stream_; }

 private:
  LastHopBind(HopPtr hop, std::size_t count, std::unique_ptr<transport::Stream> stream,
              std::unique_ptr<proto::Handshake> codec);
  ChainError error(proto::Stage stage, std::error_code ec, std::string detail = {}) const;

  HopPtr hop_;
  std::size_t count_ = 0;  // chain length, for the hop's number
  std::unique_ptr<transport::Stream> stream_;
  std::unique_ptr<proto::Handshake> codec_;  // Socks5Bind or Socks4Bind
  proto::HostPort listening_;
  std::string answered_unspecified_;
};

}  // namespace hc::chain
