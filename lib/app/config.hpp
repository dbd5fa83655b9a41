/// What the command line asked for, as plain data. Produced by cmd/cli, consumed by app::run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/access_rules.hpp"
#include "chain/pipeline_memory.hpp"
#include "chain/strategy.hpp"
#include "proto/proxy_url.hpp"
#include "proto/types.hpp"

namespace hc::app {

/// `[BIND:]LPORT:HOST:PORT`, ssh -L style.
struct ForwardSpec {
  proto::HostPort listen;  ///< host "" for all addresses
  proto::HostPort target;
};

enum class Mode : std::uint8_t { stdio, forward, socks, udp, check, remote, redirect, exec };

/// exec mode, --dns: how the command's names are resolved.
enum class ExecDns : std::uint8_t {
  fake,   ///< a stub answers A/AAAA with stand-in addresses; the chain is asked for the names
  chain,  ///< every query goes as DNS over TCP through the chain
};

/// socks mode, --gssapi-*: GSS-API (RFC 1961) clients, accepted with the keys of `keytab` for
/// tickets to SERVICE/..., at most at `max_protection`. An empty keytab: no GSS-API.
struct GssapiServerSettings {
  std::string keytab;
  std::string service = "rcmd";
  proto::Protection max_protection = proto::Protection::confidentiality;
};

struct Config {
  std::vector<proto::HopSpec> hops;  ///< path order: first = nearest
  Mode mode = Mode::stdio;
  proto::HostPort target;                       ///< stdio mode
  std::vector<ForwardSpec> forwards;            ///< forward mode
  unsigned forward_workers = 0;                 ///< forward mode: event loops; 0 = one per core
  proto::HostPort socks_listen;                 ///< socks mode; host "" for all addresses
  std::vector<proto::Credentials> socks_users;  ///< socks mode: RFC 1929 accounts; empty = none
  /// socks mode, --udp-any-port: with --users, UDP ASSOCIATE from another host may leave its
  /// port unnamed (DST.PORT 0), and then the first datagram from its address fixes it.
  bool socks_udp_any_port = false;
  AccessPolicy socks_access;          ///< socks mode: --allow/--deny, and refusing local targets
  GssapiServerSettings socks_gssapi;  ///< socks mode: --gssapi-keytab and its settings
  std::vector<ForwardSpec> udp_forwards;          ///< udp mode: local UDP port -> target
  std::chrono::milliseconds udp_timeout{60'000};  ///< udp mode: a local source's idle timeout
  std::size_t udp_max_sources = 256;              ///< udp mode: sources served at once per port
  std::optional<proto::HostPort> check_target;    ///< check mode: HOST PORT, if given
  bool check_json = false;                        ///< check mode: --json
  bool check_bind = false;                        ///< check mode: --bind
  proto::HostPort remote_target;                  ///< remote mode: where peers are joined to
  bool remote_once = false;                       ///< remote mode: --once (and --stdio)
  bool remote_stdio = false;                      ///< remote mode: --stdio, no remote_target
  bool remote_json = false;                       ///< remote mode: --json
  /// remote mode, --expect: the BIND request's DST (port 0 when not given); none = anyone.
  std::optional<proto::HostPort> remote_expect;
  /// remote mode, --accept-timeout: how long one BIND waits for its peer.
  std::chrono::milliseconds accept_timeout{600'000};
  proto::HostPort redirect_listen;  ///< redirect mode; host "" for all addresses
  bool redirect_udp = false;        ///< redirect mode, --udp: tproxy'd datagrams on the same port
  std::vector<std::string> exec_argv;  ///< exec mode: the command and its arguments
  ExecDns exec_dns = ExecDns::fake;    ///< exec mode: --dns
  bool exec_udp = true;                ///< exec mode: false with --no-udp
  chain::StrategyOptions strategy;     ///< --strategy, --chain-len, --max-fails, --fail-timeout
  std::chrono::milliseconds connect_timeout{10'000};
  chain::PipelineMode pipeline = chain::PipelineMode::automatic;  ///< --pipeline
  std::vector<std::string> dns_servers;  ///< "IP" or "IP:PORT" / "[v6]:PORT"; empty = system
  int verbosity = 0;                     ///< -1 quiet, 0 default, 1 -v, 2 -vv
  bool stats = false;                    ///< --stats: per-connection summaries and totals
  /// --cafile: CA certificates for TLS hops without ?cafile=; empty = the system store.
  std::string cafile;
};

/// Runs the configured mode to completion. Returns the process exit status: 0 success, 1 chain or
/// network failure, 2 a TLS file (CA, client certificate or key) that cannot be loaded.
int run(const Config& config);

}  // namespace hc::app
