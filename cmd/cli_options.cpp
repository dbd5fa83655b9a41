#include "cli_options.hpp"

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "seconds_option.hpp"

namespace hc::cli {
namespace {

constexpr const char* kFooter = R"(URL schemes (how each hop is asked for the next address):
  socks4://[user@]host[:1080]              IPv4 address; hopchain resolves names
  socks4a://[user@]host[:1080]             the name, resolved by the hop
  socks5://[user[:pass]@]host[:1080]       an address; hopchain resolves names
  socks5h://[user[:pass]@]host[:1080]      the name, resolved by the hop
  http://[user:pass@]host[:8080]           HTTP CONNECT; the name, resolved by the hop
  https://[user:pass@]host[:443]           HTTP CONNECT inside TLS
  socks5h+tls://[user[:pass]@]host[:1080]  any socks scheme + "+tls": SOCKS inside TLS
TLS hops: ?cafile=PATH ?sni=NAME ?cert=PATH&key=PATH ?insecure=1 (no verification)
  ?early-data=1 (on resumption, the hop's handshake as TLS 1.3 early data: replayable)
Any hop: ?grants-early=1 (it grants before connecting: an early end is its failure, and
  the user's first bytes are sent again elsewhere -- a target may get them twice)
A user without a password takes it from ~/.config/hopchain/credentials, then ~/.netrc
  ($NETRC; refused unless chmod 600), then $HOPCHAIN_PASSWORD.
Ports may be service names (socks, http-alt) from /etc/services, in URLs and specs.

Examples:
  hopchain -x socks5h://bastion:1080 -x http://proxy:3128 stdio example.org 22
  ssh -o ProxyCommand='hopchain -c work stdio %h %p' user@host
  hopchain -x socks5h://bastion:1080 socks 1080
      then: curl --socks5-hostname 127.0.0.1:1080 https://example.org/
      or:   https_proxy=http://127.0.0.1:1080 curl https://example.org/
  hopchain -x socks5://127.0.0.1:1080 udp 5353:dns.example:53
  hopchain -c work check example.org 443
  hopchain -x socks5h://bastion:1080 exec -- curl http://203.0.113.7/

'hopchain COMMAND --help' shows a command's options; 'man hopchain' has the rest.
Exit status: 0 success, 1 chain or network failure, 2 usage error.)";

/// A check that adds nothing to the help's type column, as the other validators here.
CLI::Validator positive() {
  return CLI::Validator(CLI::PositiveNumber).description("");
}

/// Which hops a connection goes through: the "Chain" group of the help.
void add_chain_options(CLI::App& app, RawOptions& raw) {
  // One URL per -x, as curl's -x: otherwise `stdio -x URL HOST PORT` takes HOST and PORT as hops.
  app.add_option("-x,--via", raw.via, "Add a hop (proxy URL); repeat in path order, nearest first")
      ->type_name("URL")
      ->allow_extra_args(false);
  app.add_option("-f,--chain-file", raw.chain_file,
                 "Read hops from FILE, one URL per line (before any -x hops)")
      ->type_name("FILE");
  app.add_option("-c,--chain", raw.chain_name,
                 "Read hops from ~/.config/hopchain/chains/NAME (before -f and -x hops)")
      ->type_name("NAME");
  app.add_flag("--direct", raw.direct,
               "Connect without any hop; needed when no hop is given (never implied)");
  app.add_option("--strategy", raw.strategy,
                 "Which hops a connection uses (default strict: all, in order)")
      ->type_name("STRATEGY")
      ->check(CLI::IsMember({"strict", "dynamic", "random", "round-robin"}));
  app.add_option("--chain-len", raw.chain_len, "Hops per chain for random and round-robin (1)")
      ->type_name("N")
      ->check(positive());
  app.add_option("--max-fails", raw.max_fails,
                 "Failures before a hop is skipped for --fail-timeout (1)")
      ->type_name("N")
      ->check(positive());
  app.add_option("--fail-timeout", raw.fail_timeout,
                 "Seconds a failed hop is skipped (30; 0-86400)")
      ->type_name("SECONDS")
      ->check(seconds_in({.zero_allowed = true, .max = 86400}));
  for (const char* name : {"--via", "--chain-file", "--chain", "--direct", "--strategy",
                           "--chain-len", "--max-fails", "--fail-timeout"}) {
    app.get_option(name)->group("Chain");
  }
}

/// How the hops are reached: the "Connection" group.
void add_connection_options(CLI::App& app, RawOptions& raw) {
  app.add_option("--connect-timeout", raw.connect_timeout,
                 "Seconds for each hop's connect and each handshake (10; up to 3600)")
      ->type_name("SECONDS")
      ->check(seconds_in({.zero_allowed = false, .max = 3600}));
  app.add_option("--dns-server", raw.dns_servers,
                 "Resolve names with this DNS server instead of the system's")
      ->type_name("IP[:PORT]");
  app.add_option("--cafile", raw.cafile, "CA certificates (PEM) for TLS hops, not the system's")
      ->type_name("FILE");
  app.add_option("--pipeline", raw.pipeline,
                 "Pipelined handshakes: auto (learnt per hop; default), always, never")
      ->type_name("MODE")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  for (const char* name : {"--connect-timeout", "--dns-server", "--cafile", "--pipeline"}) {
    app.get_option(name)->group("Connection");
  }
}

/// What is printed: the "Output" group.
void add_output_options(CLI::App& app, RawOptions& raw) {
  app.add_flag("-v,--verbose", raw.verbose, "Log chain steps with timing, connection stats (-vv)");
  app.add_flag("-q,--quiet", raw.quiet, "Print nothing but errors");
  app.add_flag("--stats", raw.stats,
               "Print connection stats (setup per hop, bytes, duration, throughput) and totals");
  for (const char* name : {"--verbose", "--quiet", "--stats"}) {
    app.get_option(name)->group("Output");
  }
}

CLI::App* add_stdio_command(CLI::App& app, RawOptions& raw) {
  auto* stdio = app.add_subcommand("stdio", "Join stdin and stdout to HOST:PORT through the chain");
  stdio->add_option("HOST", raw.host, "Target host (name or address)")->required();
  stdio->add_option("PORT", raw.port, "Target port")->required();
  stdio->footer(
      "Example:\n  hopchain -x socks5h://bastion:1080 stdio example.org 22\n"
      "  ssh -o ProxyCommand='hopchain -c work stdio %h %p' user@host");
  return stdio;
}

CLI::App* add_forward_command(CLI::App& app, RawOptions& raw) {
  auto* forward = app.add_subcommand(
      "forward", "Forward local ports through the chain, a fresh chain per connection");
  forward
      ->add_option("SPEC", raw.forwards,
                   "[BIND:]LPORT:HOST:PORT; BIND defaults to 127.0.0.1, * = all")
      ->required();
  forward
      ->add_option("--workers", raw.forward_workers,
                   "Event loops (threads) sharing the ports, 0-256; 0 (default) = one per core")
      ->type_name("N")
      ->check(CLI::Validator(CLI::Range(0U, 256U)).description(""));
  forward->footer(
      "Example:\n  hopchain -x socks5://127.0.0.1:1080 forward 8080:intranet.example:80 "
      "[::1]:2222:git:22");
  return forward;
}

CLI::App* add_socks_command(CLI::App& app, RawOptions& raw) {
  auto* socks = app.add_subcommand(
      "socks",
      "Serve SOCKS4/4a/5 and an HTTP proxy (\"mixed\": CONNECT, http:// requests) on one local "
      "port, a fresh chain per client request");
  socks->add_option("LISTEN", raw.socks_listen, "BIND defaults to 127.0.0.1; * = all addresses")
      ->type_name("[BIND:]PORT")
      ->required();
  socks
      ->add_option(
          "--users", raw.socks_users,
          "Require RFC 1929 username/password (HTTP clients: Basic): FILE has user:password "
          "lines and must not be accessible by group or others")
      ->type_name("FILE");
  socks
      ->add_option("--gssapi-keytab", raw.socks_gssapi_keytab,
                   "Accept SOCKS5 GSS-API (Kerberos, RFC 1961) clients with the service keys of "
                   "FILE; without --users, no other client")
      ->type_name("FILE");
  socks
      ->add_option("--gssapi-service", raw.socks_gssapi_service,
                   "With --gssapi-keytab: accept tickets for NAME/HOST only (default rcmd)")
      ->type_name("NAME");
  socks
      ->add_option("--gssapi-max-protection", raw.socks_gssapi_max,
                   "With --gssapi-keytab: the most per-message protection granted (default "
                   "confidentiality; curl's client works with none only)")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"none", "integrity", "confidentiality"}));
  socks->add_flag("--open", raw.socks_open,
                  "Allow BIND beyond loopback without --users (an open proxy; think twice)");
  socks->add_flag("--udp-any-port", raw.socks_udp_any_port,
                  "With --users: let UDP ASSOCIATE from another host leave its port unnamed "
                  "(whoever shares its address may then take the relay)");
  socks->add_flag("--allow-local", raw.socks_allow_local,
                  "Beyond loopback, still let clients reach this host's loopback and link-local "
                  "addresses (refused by default)");
  socks
      ->add_option("--allow", raw.socks_allow,
                   "Let clients reach addresses in CIDR; --allow and --deny rules apply in "
                   "command-line order, the first match decides")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  socks
      ->add_option("--deny", raw.socks_deny,
                   "Refuse targets in CIDR (SOCKS5 REP 0x02, HTTP 403); repeatable, like --allow")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  socks->footer(
      "Example:\n  hopchain -x socks5h://bastion:1080 socks 1080\n"
      "  curl --socks5-hostname 127.0.0.1:1080 https://example.org/");
  return socks;
}

CLI::App* add_udp_command(CLI::App& app, RawOptions& raw) {
  auto* udp = app.add_subcommand(
      "udp", "Carry local UDP ports through the chain (SOCKS5 UDP ASSOCIATE at every hop)");
  udp->add_option("SPEC", raw.udp_specs,
                  "[BIND:]LPORT:HOST:PORT; BIND defaults to 127.0.0.1, * = all")
      ->required();
  udp->add_option("--udp-timeout", raw.udp_timeout,
                  "Idle seconds before a source's association closes (60; up to 86400)")
      ->type_name("SECONDS")
      ->check(seconds_in({.zero_allowed = false, .max = 86400}));
  udp->add_option("--udp-max-sources", raw.udp_max_sources,
                  "Local sources served at once per port, 1-65536; a new one ends the one idle "
                  "the longest (256)")
      ->type_name("N")
      ->check(CLI::Validator(CLI::Range(std::size_t{1}, std::size_t{65536})).description(""));
  udp->footer(
      "Example:\n  hopchain -x socks5://127.0.0.1:1080 udp 5353:dns.example:53\n"
      "  dig -p 5353 @127.0.0.1 example.org");
  return udp;
}

CLI::App* add_remote_command(CLI::App& app, RawOptions& raw) {
  auto* remote = app.add_subcommand(
      "remote",
      "Let the last hop listen (SOCKS BIND) and join each connection it accepts to HOST:PORT "
      "here, like ssh -R; prints each listening address");
  remote
      ->add_option("TARGET", raw.remote_target, "Local service to join peers to (not with --stdio)")
      ->type_name("HOST:PORT");
  remote->add_flag("--once", raw.remote_once,
                   "Serve one connection, then exit (0 if its relay ended cleanly)");
  remote->add_flag("--stdio", raw.remote_stdio,
                   "Join the first connection to stdin/stdout instead of TARGET, then exit with "
                   "its status (netcat-style)");
  remote
      ->add_option("--expect", raw.remote_expect,
                   "The peer the hop should accept (BIND's DST.ADDR/DST.PORT), where the server "
                   "checks it; default 0.0.0.0:0, anyone")
      ->type_name("HOST[:PORT]");
  remote->add_flag("--json", raw.remote_json,
                   "Also print one JSON line per listening address on stdout");
  remote
      ->add_option("--accept-timeout", raw.accept_timeout,
                   "Seconds one BIND waits for a peer (600; up to 86400); then a new BIND, or "
                   "with --once an error")
      ->type_name("SECONDS")
      ->check(seconds_in({.zero_allowed = false, .max = 86400}));
  remote->footer(
      "Example:\n  hopchain -x socks5://user@gateway:1080 remote --once 127.0.0.1:22\n"
      "  hopchain: remote: listening at 203.0.113.5:40123 (hop 1/1 socks5://user@gateway:1080)");
  return remote;
}

CLI::App* add_redirect_command(CLI::App& app, RawOptions& raw) {
  auto* redirect = app.add_subcommand(
      "redirect",
      "Carry connections that the firewall redirected here (nftables redirect, iptables "
      "REDIRECT) through the chain to their original destination, like redsocks");
  redirect
      ->add_option("LISTEN", raw.redirect_listen, "BIND defaults to 127.0.0.1; * = all addresses")
      ->type_name("[BIND:]PORT")
      ->required();
  redirect->add_flag("--udp", raw.redirect_udp,
                     "Also take UDP datagrams sent here by nftables tproxy (iptables TPROXY) on "
                     "the same port; needs CAP_NET_ADMIN");
  redirect->footer(
      "Example:\n  hopchain -x socks5://gateway:1080 redirect 12345\n"
      "  nft add rule ip hc out meta skuid 1000 ip daddr != 127.0.0.0/8 tcp dport 1-65535 "
      "redirect to :12345");
  return redirect;
}

CLI::App* add_exec_command(CLI::App& app, RawOptions& raw) {
  auto* exec = app.add_subcommand(
      "exec",
      "Run CMD in its own network namespace: every TCP connection and UDP datagram it sends "
      "goes through the chain (no root, no LD_PRELOAD; static programs too)");
  exec->add_option("--dns", raw.exec_dns,
                   "How CMD resolves names, through a stub at 127.0.0.53 in its namespace: "
                   "fake (default: A/AAAA get stand-in addresses and the chain gets the names; "
                   "other types go to --dns-server through the chain) or chain (every query as "
                   "DNS over TCP through the chain to --dns-server)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"fake", "chain"}));
  exec->add_flag("--no-udp", raw.exec_no_udp,
                 "Do not carry CMD's UDP datagrams (by default they go through the chain's UDP "
                 "associations, over the hops that carry UDP); none but DNS to the stub then "
                 "leaves the namespace");
  // Everything from CMD on is CMD's, options included, as with sudo and env: the first word that
  // is not exec's own ends the parse (prefix_command); cli.cpp splits at `--` before CLI11 runs.
  exec->prefix_command();
  exec->fallthrough(
      false);  // else CMD would fall through to the top level, which has no use for it
  exec->footer(
      "Usage: hopchain [chain options] exec [--dns fake|chain] [--no-udp] -- CMD [ARGS...]\n"
      "Example:\n  hopchain -x socks5h://bastion:1080 exec -- curl http://203.0.113.7/\n"
      "  hopchain -c work exec -- ssh user@10.0.0.5\n"
      "Exit status: CMD's, or 128+N if signal N ended it; 127 CMD not found, 126 not "
      "executable, 2 when the namespace cannot be built (the reason is printed).");
  return exec;
}

CLI::App* add_check_command(CLI::App& app, RawOptions& raw) {
  auto* check = app.add_subcommand(
      "check", "Test the chain hop by hop and print per-hop timing; exit 1 if anything failed");
  check->add_option("HOST", raw.check_host, "Finish with a connect to HOST PORT through the chain");
  check->add_option("PORT", raw.check_port, "Target port (with HOST)");
  check->add_flag("--json", raw.check_json, "Print the result as JSON");
  check->add_flag("--bind", raw.check_bind,
                  "Also ask each SOCKS hop, as the last hop of the hops up to it, for a BIND");
  check->footer("Example:\n  hopchain -c work check example.org 443");
  return check;
}

}  // namespace

Subcommands declare_command_line(CLI::App& app, RawOptions& raw) {
  app.set_version_flag("--version", std::string("hopchain ") + HOPCHAIN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kFooter);
  // The order of these calls is the order of the help's groups and commands.
  add_chain_options(app, raw);
  add_connection_options(app, raw);
  add_output_options(app, raw);
  Subcommands commands;
  commands.stdio = add_stdio_command(app, raw);
  commands.forward = add_forward_command(app, raw);
  commands.socks = add_socks_command(app, raw);
  commands.udp = add_udp_command(app, raw);
  commands.check = add_check_command(app, raw);
  commands.remote = add_remote_command(app, raw);
  commands.redirect = add_redirect_command(app, raw);
  commands.exec = add_exec_command(app, raw);
  return commands;
}

}  // namespace hc::cli
