/// One UDP path through a chain of SOCKS5 hops, by nested UDP ASSOCIATE (RFC 1928 §6, §7).
///
/// For each hop k a TCP control connection runs through hops 1..k-1 and asks hop k for a UDP
/// relay R_k. Datagrams go to R_1 as H(R_2)·…·H(R_n)·H(target)·payload; each hop strips one
/// header. Replies must come from R_1 and carry R_2..R_n in that order, or they are dropped.
/// The association is only as alive as its control connections (a server ends the relay when
/// its TCP connection closes): wait_closed() completes when any of them ends, and the owner
/// tears the association down and opens a new one when it next has something to send.
///
/// With no hops at all the association is a plain UDP socket that sends straight to the
/// target: the same interface, no headers. It is bound to every interface, so it takes replies
/// only from the destinations it has sent to (the latest kMaxDirectPeers of them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "chain/chain_error.hpp"
#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "proto/socks5_udp.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"

namespace hc::dns {
class Resolver;
}

namespace hc::udp {

using Endpoint = asio::ip::udp::endpoint;

/// Why a chain cannot carry UDP, or a relay address we cannot use.
enum class UdpErrc {
  not_socks5 = 1,     ///< a SOCKS4 or HTTP hop: only SOCKS5 has UDP ASSOCIATE
  tls_hop,            ///< datagrams to the hop's relay would bypass its TLS
  no_relay_port,      ///< the hop answered UDP ASSOCIATE with BND.PORT 0
  relay_family,       ///< hop 1's relay is IPv4 and we reached it over IPv6, or the reverse
  no_target_address,  ///< the target name resolved to nothing we can send to
  no_udp_hop,         ///< a strategy found no hop of its list that carries UDP
  gssapi_hop,         ///< RFC 1961 datagram encapsulation is not implemented
};
const std::error_category& udp_category();
std::error_code make_error_code(UdpErrc e);

/// True once the running coroutine was cancelled (a task beside it finished first). Loops check it
/// between operations: a cancellation that arrives while no operation is pending cancels none.
awaitable<bool> is_cancelled();

/// Returns when `stream` reaches EOF or fails (or on cancellation); whatever arrives before that
/// is discarded. Watches a control connection, on which nothing more is expected.
awaitable<void> until_closed(transport::Stream& stream);

/// IPv4-mapped IPv6 addresses in their IPv4 form, so that endpoints compare as the wire means.
Endpoint normalized(const Endpoint& e);

/// The largest payload one IPv4 or IPv6 datagram to `to` can hold (65535 minus IP and UDP
/// headers; no jumbograms).
std::size_t max_datagram(const Endpoint& to);

/// A hop that cannot carry UDP, found without connecting: the first one that is not plain
/// SOCKS5. The error names that hop.
std::optional<chain::ChainError> check_udp_chain(const chain::Hops& hops);

/// A target as the datagrams name it: what goes in the innermost header (the name when the last
/// hop resolves names, else an address resolved here), or where to send when there is no hop.
struct Target {
  std::error_code ec;      ///< resolution failed; nothing to send to
  proto::HostPort header;  ///< the innermost header's address; replies' origin must match it
  Endpoint endpoint;       ///< no hops: where datagrams go and replies come from
};

enum class SendStatus : std::uint8_t { sent, too_large, failed };
struct SendResult {
  SendStatus status = SendStatus::sent;
  std::size_t size = 0;  ///< the datagram's size with every header
  std::error_code ec;    ///< failed: the socket error (the association is then unusable)
};

struct Received {
  std::error_code ec;  ///< a socket error: the association is unusable
  /// Set when the datagram did not come from R_1 (or, with no hop, from a destination sent
  /// to); the datagram is dropped.
  bool wrong_source = false;
  proto::socks5::UdpDrop drop = proto::socks5::UdpDrop::none;  ///< a header check failed
  std::size_t layer = 0;   ///< with `drop`: which header (0 = outermost)
  Endpoint from;           ///< the datagram's sender
  proto::HostPort origin;  ///< where the payload came from (the innermost header, or `from`)
  std::span<const std::uint8_t> payload;  ///< a view into the caller's buffer
  bool ok() const { return !ec && !wrong_source && drop == proto::socks5::UdpDrop::none; }
};

class Association;
/// Why a `wrong_source` datagram was dropped, for logs: "not from the relay" or, with no hop,
/// "not from a destination sent to".
std::string wrong_source_text(const Association& a);

/// Destinations a direct association remembers (and takes replies from); past this the oldest
/// is forgotten.
inline constexpr std::size_t kMaxDirectPeers = 1024;

class Association {
 public:
  struct Opened {
    std::unique_ptr<Association> association;  ///< set on success
    std::optional<chain::ChainError> error;    ///< set on failure; names the hop
    /// On failure, the hop at fault (an index into the hops given), if one is: a strategy tries
    /// again without it.
    std::optional<std::size_t> blamed;
    /// The blamed hop answered but cannot carry UDP (refused UDP ASSOCIATE, or is not plain
    /// SOCKS5): trying it again later would not help.
    bool lacks_udp = false;
  };
  /// Opens the control connections and asks every hop for its relay. Each connect and handshake
  /// is bounded by services.connect_timeout.
  static awaitable<Opened> open(chain::Hops hops, chain::Services& services);

  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;
  ~Association();

  /// The target as datagrams must name it: resolved here when the last hop takes addresses only
  /// (socks5://) or when there is no hop.
  awaitable<Target> prepare(proto::HostPort target);

  /// Wraps `payload` for `target` and sends it to R_1 (or, with no hop, to the target). A
  /// datagram that would exceed max_datagram() once wrapped is not sent: too_large.
  awaitable<SendResult> send(const Target& target, std::span<const std::uint8_t> payload);

  /// Receives the next datagram into `buffer` and checks it: it must come from R_1 and carry
  /// R_2..R_n. The origin's header is not checked here (see proto::socks5::udp_address_matches).
  awaitable<Received> receive(std::span<std::uint8_t> buffer);

  /// Completes when any control connection closes (never, with no hop).
  awaitable<void> wait_closed();

  /// Closes the control connections and the UDP socket; pending operations complete with errors.
  void close();

  /// The bytes every datagram to `target` gains in headers.
  std::size_t overhead(const Target& target) const;
  /// "relay 127.0.0.1:40123 (hop 1), then 127.0.0.1:40200 (hop 2)", or "direct".
  std::string describe() const;
  std::size_t hops() const { return hop_count_; }
  /// Where datagrams go: R_1, or nothing (default endpoint) with no hop.
  const Endpoint& first_relay() const { return first_relay_; }

 private:
  /// Only open() makes associations: the constructor is public for make_unique, but takes a
  /// key that only members can make.
  struct Key {
    explicit Key() = default;
  };

 public:
  Association(Key, asio::ip::udp::socket socket, std::size_t hop_count);

 private:
  asio::ip::udp::socket socket_;
  std::size_t hop_count_ = 0;
  bool last_hop_takes_names_ = false;
  std::vector<std::unique_ptr<transport::Stream>> controls_;  // hop k's at index k-1
  Endpoint first_relay_;                                      // R_1
  std::vector<proto::HostPort> relays_;                       // R_2..R_n, as the headers name them
  std::vector<proto::HostPort> header_addresses_;             // scratch: relays_ and the target
  std::vector<std::uint8_t> datagram_;                        // scratch: the datagram being sent
  dns::Resolver* resolver_ = nullptr;
  std::set<Endpoint> peers_;          // no hop: destinations sent to (normalized)
  std::deque<Endpoint> peers_order_;  // the same, oldest first
  void remember_peer(const Endpoint& to);
};

}  // namespace hc::udp

template <>
struct std::is_error_code_enum<hc::udp::UdpErrc> : std::true_type {};
