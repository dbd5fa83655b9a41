/// The resolver `exec --dns fake|chain` serves inside the program's namespace, over UDP and TCP
/// on sockets the namespace code created there. Under `fake`, A and AAAA queries (class IN) get
/// an address of a FakeAddresses pool with a TTL of 1 s, so that the program's connection to it
/// reaches the chain as the name. Every other query, and every query under `chain`, goes as DNS
/// over TCP through the chain (a chain of its own per query, with the strategy of the other
/// modes) to the upstream resolver, and its answer is relayed; a UDP client whose answer is too
/// big for it gets the answer cut to its question with TC set, and asks again over TCP. Nothing
/// leaves the machine but through the chain.
///
/// Bounded: one upstream exchange gets `upstream_timeout` once its chain is open (opening is
/// bounded by the chain's own connect timeout), at most `max_in_flight` upstream queries run at
/// once, at most `max_tcp_clients` TCP clients are served at once, each for as long as it sends
/// a query every `tcp_idle_timeout`. A query that cannot be answered gets SERVFAIL and one log
/// line; a message that is not a query gets FORMERR, or nothing when it is a response.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "capture/fake_addresses.hpp"
#include "chain/services.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::app {

enum class DnsMode : std::uint8_t { fake, chain };

struct DnsStubOptions {
  DnsMode mode = DnsMode::fake;
  /// The resolver asked through the chain (an IP literal and port; see dns_upstream()). An
  /// empty host: none, and the queries that need one get SERVFAIL.
  proto::HostPort upstream;
  /// False when the namespace captures no IPv6: AAAA queries then get NODATA, never a fake
  /// address nothing would carry.
  bool fake_ipv6 = true;
  std::uint32_t fake_ttl = 1;
  std::chrono::milliseconds upstream_timeout{5000};
  std::size_t max_in_flight = 64;
  std::size_t max_tcp_clients = 32;
  std::chrono::milliseconds tcp_idle_timeout{10'000};
};

class DnsStub {
 public:
  /// `udp`: bound (port 53 of the namespace's stub address); `tcp`: listening on the same
  /// address. `pool` and `services` (its planner's hops are the chain; no planner = no hop) are
  /// shared with the rest of the mode and must outlive the io_context's run.
  DnsStub(asio::ip::udp::socket udp, tcp::acceptor tcp, capture::FakeAddresses& pool,
          chain::Services& services, DnsStubOptions options);

  /// Serves both sockets until the io_context stops. Call once.
  awaitable<void> run();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

/// The text of the namespace's /etc/resolv.conf: the stub as its only name server. No search
/// list: under `fake` every candidate name would "exist" and the first one tried would win.
std::string namespace_resolv_conf(const asio::ip::address& stub);

/// The resolver the stub asks through the chain: the first of `dns_servers` (--dns-server
/// values: "IP", "IP:PORT", "[v6]:PORT"), else the first `nameserver` of `host_resolv_conf` (the
/// host's /etc/resolv.conf text), on port 53. With `through_hops`, a loopback name server of
/// resolv.conf (a local cache such as systemd-resolved's 127.0.0.53) is passed over: the last
/// hop would ask its own loopback. An error names the fix (--dns-server).
Result<proto::HostPort> dns_upstream(const std::vector<std::string>& dns_servers,
                                     std::string_view host_resolv_conf, bool through_hops);

}  // namespace hc::app
