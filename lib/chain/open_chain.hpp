/// Builds a tunnel through a chain of hops: connect to hop 1, run hop 1's handshake asking for
/// hop 2, run hop 2's handshake through that tunnel, and so on; the last hop is asked for the
/// target. The result is a stream to the target, or a ChainError naming the hop that failed.
/// A TLS hop (https, socks*+tls) gets its TLS session over the tunnel built so far, before its
/// proxy handshake; consecutive TLS hops nest TLS in TLS.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "chain/chain_error.hpp"
#include "proto/proxy_url.hpp"
#include "proto/step.hpp"
#include "proto/types.hpp"
#include "transport/stream.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::chain {

class TlsContexts;

struct Services {
  dns::Resolver& resolver;
  std::chrono::milliseconds connect_timeout{10'000};
  /// Built at startup from the same hops; when null, open_chain builds its own for TLS hops.
  const TlsContexts* tls = nullptr;
};

struct ChainResult {
  std::unique_ptr<transport::Stream> stream;  ///< set on success
  std::optional<ChainError> error;            ///< set on failure
};

/// `hops` in path order (first = nearest); an empty chain connects to `target` directly.
awaitable<ChainResult> open_chain(std::vector<proto::HopSpec> hops, proto::HostPort target,
                                  Services& services);

/// The codec that asks `hop` for `next`. `next.host` must already be an address for hops that
/// do not take names (socks4, socks5).
std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next);

}  // namespace hc::chain
