#include "cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config_file.hpp"
#include "app/credentials.hpp"
#include "app/endpoint_syntax.hpp"
#include "app/listener.hpp"
#include "app/service_port.hpp"
#include "app/users_file.hpp"
#include "passwords.hpp"
#include "proto/proxy_url.hpp"
#include "seconds_option.hpp"
#include "usage_errors.hpp"

namespace hc::cli {
namespace {

constexpr int kUsageError = 2;

constexpr const char* kFooter = R"(URL schemes (how each hop is asked for the next address):
  socks4://[user@]host[:1080]              IPv4 address; hopchain resolves names
  socks4a://[user@]host[:1080]             the name, resolved by the hop
  socks5://[user[:pass]@]host[:1080]       an address; hopchain resolves names
  socks5h://[user[:pass]@]host[:1080]      the name, resolved by the hop
  http://[user:pass@]host[:8080]           HTTP CONNECT; the name, resolved by the hop
  https://[user:pass@]host[:443]           HTTP CONNECT inside TLS
  socks5h+tls://[user[:pass]@]host[:1080]  any socks scheme + "+tls": SOCKS inside TLS
TLS hops: ?cafile=PATH ?sni=NAME ?cert=PATH&key=PATH ?insecure=1 (no verification)
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

'hopchain COMMAND --help' shows a command's options; 'man hopchain' has the rest.
Exit status: 0 success, 1 chain or network failure, 2 usage error.)";

struct RawOptions {
  std::vector<std::string> via;
  std::string chain_file;
  std::string chain_name;
  std::string strategy;
  std::size_t chain_len = 0;  ///< 0 = not given
  int max_fails = 1;
  double fail_timeout = 30.0;
  std::string check_host;
  std::string check_port;
  bool check_json = false;
  double connect_timeout = 10.0;
  std::string pipeline = "auto";
  std::vector<std::string> dns_servers;
  std::string cafile;
  bool direct = false;
  int verbose = 0;
  bool quiet = false;
  bool stats = false;
  std::string host;
  std::string port;
  std::vector<std::string> forwards;
  unsigned forward_workers = 0;
  std::string socks_listen;
  std::string socks_users;
  bool socks_open = false;
  bool socks_udp_any_port = false;
  bool socks_allow_local = false;
  std::vector<std::string> socks_allow;
  std::vector<std::string> socks_deny;
  std::vector<std::string> udp_specs;
  double udp_timeout = 60.0;
  std::size_t udp_max_sources = 256;
};

/// Never echoes the URL itself: it may hold a password.
bool add_hop(const std::string& url, const std::string& origin, std::vector<proto::HopSpec>& hops,
             std::ostream& err) {
  proto::HopSpec hop;
  if (const auto ec = proto::parse_proxy_url(url, hop, app::tcp_service_port)) {
    err << "hopchain: " << origin << ": bad proxy URL: " << ec.message() << "\n";
    return false;
  }
  hops.push_back(std::move(hop));
  return true;
}

/// `-c NAME` with no such file: what is there instead.
std::string unknown_chain(const std::string& name, const std::string& chains_dir) {
  const std::string there = list_chains(chains_dir);
  std::vector<std::string> names;
  for (std::size_t at = 0; at < there.size();) {
    const std::size_t end = std::min(there.find(", ", at), there.size());
    names.push_back(there.substr(at, end - at));
    at = end + 2;
  }
  const std::string guess = closest_name(name, names);
  std::string text = "hopchain: -c: no chain named '" + name + "' in " + chains_dir +
                     (guess.empty() ? std::string() : " (did you mean " + guess + "?)") + "\n";
  if (there.empty()) {
    return text + "hopchain: there is no named chain yet: write one URL per line into " +
           chains_dir + "/" + name + "\n";
  }
  return text + "hopchain: the chains there: " + there + "\n";
}

/// Reads a chain file (-f, or -c's named chain) with its optional strategy/chain-len lines.
bool read_chain_file(const std::string& path, app::ChainFile& file, bool quiet, std::ostream& err) {
  app::ConfigFileText text = app::read_config_file(path);
  if (!text.error.empty()) {
    err << "hopchain: cannot read chain file " << path << ": " << text.error << "\n";
    return false;
  }
  file = app::parse_chain_text(text.text, app::tcp_service_port);
  app::wipe(text.text);
  if (!file.error.empty()) {
    err << "hopchain: " << path << ":" << file.error << "\n";
    return false;
  }
  const bool has_password =
      std::any_of(file.hops.begin(), file.hops.end(), [](const auto& h) { return h.password; });
  if (has_password && !quiet && app::readable_by_others(path)) {
    err << "hopchain: warning: " << path
        << " holds a password and is readable by group or others (chmod 600 it)\n";
  }
  return true;
}

/// People chain for privacy: an empty chain never quietly means a direct connection. Empty
/// when the hops and --direct agree; else what is wrong, naming the source that came up empty.
std::string no_hop_error(const RawOptions& raw, bool no_hops, const std::string& config_dir) {
  if (raw.direct) {
    return no_hops ? std::string()
                   : "--direct means no hop, but hops were given (-x, -f or -c): drop one or "
                     "the other";
  }
  if (!no_hops) {
    return {};
  }
  std::string source = "no hop given";
  if (!raw.chain_name.empty()) {
    source = "chain '" + raw.chain_name + "' (" + config_dir + "/chains/" + raw.chain_name +
             ") has no hop";
  } else if (!raw.chain_file.empty()) {
    source = "chain file " + raw.chain_file + " has no hop";
  }
  return source +
         ": add one (-x URL, -f FILE or -c NAME), or pass --direct to connect without a proxy";
}

/// socks --allow/--deny, in the order they were given (the first matching rule decides).
std::string access_rules(const CLI::App& socks, app::AccessPolicy& policy) {
  std::size_t next_allow = 0;
  std::size_t next_deny = 0;
  for (const CLI::Option* option : socks.parse_order()) {
    const bool allow = option->get_name() == "--allow";
    if (!allow && option->get_name() != "--deny") {
      continue;
    }
    std::size_t& next = allow ? next_allow : next_deny;
    const std::vector<std::string>& values = option->results();
    if (next >= values.size()) {
      continue;
    }
    app::AccessRule rule;
    rule.allow = allow;
    auto block = app::parse_cidr(values[next++]);
    if (!block) {
      return (allow ? "--allow: " : "--deny: ") + block.error();
    }
    rule.block = std::move(*block);
    policy.rules.push_back(rule);
  }
  return {};
}

}  // namespace

ParseOutcome parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  RawOptions raw;
  CLI::App app{
      "hopchain: tunnel through a chain of SOCKS4, SOCKS4a, SOCKS5 and HTTP CONNECT proxies.",
      "hopchain"};
  app.set_version_flag("--version", std::string("hopchain ") + HOPCHAIN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kFooter);

  // Validators that check without adding their name to the help's type column.
  const CLI::Validator positive = CLI::Validator(CLI::PositiveNumber).description("");
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
      ->check(positive);
  app.add_option("--max-fails", raw.max_fails,
                 "Failures before a hop is skipped for --fail-timeout (1)")
      ->type_name("N")
      ->check(positive);
  app.add_option("--fail-timeout", raw.fail_timeout,
                 "Seconds a failed hop is skipped (30; 0-86400)")
      ->type_name("SECONDS")
      ->check(seconds_in({.zero_allowed = true, .max = 86400}));
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
  app.add_flag("-v,--verbose", raw.verbose, "Log chain steps with timing, connection stats (-vv)");
  app.add_flag("-q,--quiet", raw.quiet, "Print nothing but errors");
  app.add_flag("--stats", raw.stats,
               "Print connection stats (setup per hop, bytes, duration, throughput) and totals");
  // Help in groups: which hops, how they are reached, what is printed.
  for (const char* name : {"--via", "--chain-file", "--chain", "--direct", "--strategy",
                           "--chain-len", "--max-fails", "--fail-timeout"}) {
    app.get_option(name)->group("Chain");
  }
  for (const char* name : {"--connect-timeout", "--dns-server", "--cafile", "--pipeline"}) {
    app.get_option(name)->group("Connection");
  }
  for (const char* name : {"--verbose", "--quiet", "--stats"}) {
    app.get_option(name)->group("Output");
  }

  auto* stdio = app.add_subcommand("stdio", "Join stdin and stdout to HOST:PORT through the chain");
  stdio->add_option("HOST", raw.host, "Target host (name or address)")->required();
  stdio->add_option("PORT", raw.port, "Target port")->required();
  stdio->footer(
      "Example:\n  hopchain -x socks5h://bastion:1080 stdio example.org 22\n"
      "  ssh -o ProxyCommand='hopchain -c work stdio %h %p' user@host");

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

  auto* check = app.add_subcommand(
      "check", "Test the chain hop by hop and print per-hop timing; exit 1 if anything failed");
  check->add_option("HOST", raw.check_host, "Finish with a connect to HOST PORT through the chain");
  check->add_option("PORT", raw.check_port, "Target port (with HOST)");
  check->add_flag("--json", raw.check_json, "Print the result as JSON");
  check->footer("Example:\n  hopchain -c work check example.org 443");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return {std::nullopt, app.exit(e, out, err)};  // --help, --version
    }
    err << explain_usage_error(app, e);
    return {std::nullopt, kUsageError};
  }

  app::Config config;
  std::optional<chain::Strategy> file_strategy;
  std::optional<std::size_t> file_chain_len;
  const std::string config_dir =
      app::config_dir(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  for (const bool named : {true, false}) {
    const std::string& given = named ? raw.chain_name : raw.chain_file;
    if (given.empty()) {
      continue;
    }
    if (named && (config_dir.empty() || given.find('/') != std::string::npos || given[0] == '.')) {
      err << "hopchain: -c: bad chain name '" << given
          << "' (a file name under $XDG_CONFIG_HOME/hopchain/chains; use -f for a path)\n";
      return {std::nullopt, kUsageError};
    }
    if (named && !std::filesystem::exists(config_dir + "/chains/" + given)) {
      err << unknown_chain(given, config_dir + "/chains");
      return {std::nullopt, kUsageError};
    }
    app::ChainFile file;
    if (!read_chain_file(named ? config_dir + "/chains/" + given : given, file, raw.quiet, err)) {
      return {std::nullopt, kUsageError};
    }
    for (auto& hop : file.hops) {
      config.hops.push_back(std::move(hop));
    }
    file_strategy = file.strategy ? file.strategy : file_strategy;
    file_chain_len = file.chain_len ? file.chain_len : file_chain_len;
  }
  for (std::size_t i = 0; i < raw.via.size(); ++i) {
    if (!add_hop(raw.via[i], "--via #" + std::to_string(i + 1), config.hops, err)) {
      return {std::nullopt, kUsageError};
    }
  }
  if (const std::string error = no_hop_error(raw, config.hops.empty(), config_dir);
      !error.empty()) {
    err << "hopchain: " << error << "\n";
    return {std::nullopt, kUsageError};
  }
  if (!fill_passwords(config.hops, config_dir, raw.quiet, err)) {
    return {std::nullopt, kUsageError};
  }
  // --strategy beats the named chain's line; chain-len likewise.
  auto& strategy = config.strategy;
  strategy.strategy = raw.strategy.empty() ? file_strategy.value_or(chain::Strategy::strict)
                                           : *chain::parse_strategy(raw.strategy);
  const bool picks = strategy.strategy == chain::Strategy::random ||
                     strategy.strategy == chain::Strategy::round_robin;
  if (raw.chain_len != 0 && !picks) {
    err << "hopchain: --chain-len applies to --strategy random and round-robin only\n";
    return {std::nullopt, kUsageError};
  }
  strategy.chain_len = raw.chain_len != 0 ? raw.chain_len : file_chain_len.value_or(1);
  if (strategy.strategy != chain::Strategy::strict && config.hops.empty()) {
    err << "hopchain: --strategy " << chain::to_string(strategy.strategy) << " needs hops\n";
    return {std::nullopt, kUsageError};
  }
  if (picks && strategy.chain_len > config.hops.size()) {
    err << "hopchain: chain length " << strategy.chain_len << " is more than the "
        << config.hops.size() << " hop(s) given\n";
    return {std::nullopt, kUsageError};
  }
  strategy.max_fails = raw.max_fails;
  strategy.fail_timeout = to_milliseconds(raw.fail_timeout);
  config.connect_timeout = to_milliseconds(raw.connect_timeout);
  config.dns_servers = raw.dns_servers;
  config.pipeline = raw.pipeline == "always"  ? chain::PipelineMode::always
                    : raw.pipeline == "never" ? chain::PipelineMode::never
                                              : chain::PipelineMode::automatic;
  config.cafile = raw.cafile;
  config.verbosity = raw.quiet ? -1 : raw.verbose;
  config.stats = raw.stats;

  if (stdio->parsed()) {
    config.mode = app::Mode::stdio;
    auto target = app::parse_host_port(raw.host, raw.port);
    if (!target) {
      err << "hopchain: stdio: " << target.error() << "\n";
      return {std::nullopt, kUsageError};
    }
    config.target = std::move(*target);
  } else if (socks->parsed()) {
    config.mode = app::Mode::socks;
    std::string error;
    if (auto listen = app::parse_listen_spec(raw.socks_listen); !listen) {
      error = listen.error();
    } else {
      config.socks_listen = std::move(*listen);
    }
    if (error.empty() && !raw.socks_users.empty()) {
      if (auto users = app::load_users_file(raw.socks_users); !users) {
        error = users.error();
      } else {
        config.socks_users = std::move(*users);
      }
    }
    if (!error.empty()) {
      err << "hopchain: socks: " << error << "\n";
      return {std::nullopt, kUsageError};
    }
    config.socks_udp_any_port = raw.socks_udp_any_port;
    error = access_rules(*socks, config.socks_access);
    if (!error.empty()) {
      err << "hopchain: socks: " << error << "\n";
      return {std::nullopt, kUsageError};
    }
    const bool exposed = !app::is_loopback_bind(config.socks_listen.host);
    config.socks_access.refuse_local = exposed && !raw.socks_allow_local;
    const std::string where = app::listen_text(config.socks_listen);
    if (config.socks_users.empty() && !app::is_loopback_bind(config.socks_listen.host)) {
      if (!raw.socks_open) {
        err << "hopchain: socks: refusing to listen on " << where
            << " without --users: anyone who can reach that address could use the chain as an "
               "open proxy, and open proxies get found and abused. Listen on 127.0.0.1 or [::1], "
               "require passwords with --users FILE, or pass --open if that is really meant.\n";
        return {std::nullopt, kUsageError};
      }
      if (!raw.quiet) {
        err << "hopchain: warning: the SOCKS server on " << where
            << " is open to anyone who can reach it (--open)\n";
      }
    }
  } else if (check->parsed()) {
    config.mode = app::Mode::check;
    config.check_json = raw.check_json;
    if (raw.check_host.empty() != raw.check_port.empty()) {
      err << "hopchain: check: give both HOST and PORT, or neither\n";
      return {std::nullopt, kUsageError};
    }
    if (!raw.check_host.empty()) {
      auto target = app::parse_host_port(raw.check_host, raw.check_port);
      if (!target) {
        err << "hopchain: check: " << target.error() << "\n";
        return {std::nullopt, kUsageError};
      }
      config.check_target = std::move(*target);
    }
  } else if (udp->parsed()) {
    config.mode = app::Mode::udp;
    config.udp_timeout = to_milliseconds(raw.udp_timeout);
    config.udp_max_sources = raw.udp_max_sources;
    for (const auto& text : raw.udp_specs) {
      auto spec = app::parse_forward_spec(text, app::udp_service_port);
      if (!spec) {
        err << "hopchain: udp: " << spec.error() << "\n";
        return {std::nullopt, kUsageError};
      }
      config.udp_forwards.push_back(std::move(*spec));
    }
  } else {
    config.mode = app::Mode::forward;
    config.forward_workers = raw.forward_workers;
    for (const auto& text : raw.forwards) {
      auto spec = app::parse_forward_spec(text);
      if (!spec) {
        err << "hopchain: forward: " << spec.error() << "\n";
        return {std::nullopt, kUsageError};
      }
      config.forwards.push_back(std::move(*spec));
    }
  }
  return {std::move(config), 0};
}

}  // namespace hc::cli
