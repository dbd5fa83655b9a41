#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config_file.hpp"
#include "app/credentials.hpp"
#include "app/endpoint_syntax.hpp"
#include "app/listener.hpp"
#include "app/service_port.hpp"
#include "app/users_file.hpp"
#include "cli_options.hpp"
#include "passwords.hpp"
#include "proto/gssapi_errors.hpp"
#include "proto/proxy_url.hpp"
#include "seconds_option.hpp"
#include "transport/gss_krb5.hpp"
#include "usage_errors.hpp"

namespace hc::cli {
namespace {

constexpr int kUsageError = 2;

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
  auto parsed = app::parse_chain_text(text.text, app::tcp_service_port);
  app::wipe(text.text);
  if (!parsed) {
    err << "hopchain: " << path << ":" << parsed.error() << "\n";
    return false;
  }
  file = std::move(*parsed);
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

/// What a chain file (-c or -f) said besides its hops; -c's lines come first, -f's override them.
struct FileSettings {
  std::optional<chain::Strategy> strategy;
  std::optional<std::size_t> chain_len;
};

/// The hops of -c, then -f, then each -x, in path order. False after printing why not.
bool collect_hops(const RawOptions& raw, const std::string& config_dir, app::Config& config,
                  FileSettings& settings, std::ostream& err) {
  for (const bool named : {true, false}) {
    const std::string& given = named ? raw.chain_name : raw.chain_file;
    if (given.empty()) {
      continue;
    }
    if (named && (config_dir.empty() || given.find('/') != std::string::npos || given[0] == '.')) {
      err << "hopchain: -c: bad chain name '" << given
          << "' (a file name under $XDG_CONFIG_HOME/hopchain/chains; use -f for a path)\n";
      return false;
    }
    if (named && !std::filesystem::exists(config_dir + "/chains/" + given)) {
      err << unknown_chain(given, config_dir + "/chains");
      return false;
    }
    app::ChainFile file;
    if (!read_chain_file(named ? config_dir + "/chains/" + given : given, file, raw.quiet, err)) {
      return false;
    }
    for (auto& hop : file.hops) {
      config.hops.push_back(std::move(hop));
    }
    settings.strategy = file.strategy ? file.strategy : settings.strategy;
    settings.chain_len = file.chain_len ? file.chain_len : settings.chain_len;
  }
  for (std::size_t i = 0; i < raw.via.size(); ++i) {
    if (!add_hop(raw.via[i], "--via #" + std::to_string(i + 1), config.hops, err)) {
      return false;
    }
  }
  return true;
}

/// The strategy and its chain length, checked against the hops there are.
bool apply_strategy(const RawOptions& raw, const FileSettings& settings, app::Config& config,
                    std::ostream& err) {
  // --strategy beats the named chain's line; chain-len likewise.
  auto& strategy = config.strategy;
  strategy.strategy = raw.strategy.empty() ? settings.strategy.value_or(chain::Strategy::strict)
                                           : *chain::parse_strategy(raw.strategy);
  const bool picks = strategy.strategy == chain::Strategy::random ||
                     strategy.strategy == chain::Strategy::round_robin;
  if (raw.chain_len != 0 && !picks) {
    err << "hopchain: --chain-len applies to --strategy random and round-robin only\n";
    return false;
  }
  strategy.chain_len = raw.chain_len != 0 ? raw.chain_len : settings.chain_len.value_or(1);
  if (strategy.strategy != chain::Strategy::strict && config.hops.empty()) {
    err << "hopchain: --strategy " << chain::to_string(strategy.strategy) << " needs hops\n";
    return false;
  }
  if (picks && strategy.chain_len > config.hops.size()) {
    err << "hopchain: chain length " << strategy.chain_len << " is more than the "
        << config.hops.size() << " hop(s) given\n";
    return false;
  }
  strategy.max_fails = raw.max_fails;
  strategy.fail_timeout = to_milliseconds(raw.fail_timeout);
  return true;
}

/// The global options every mode shares: the chain (-c, -f, -x, --direct), passwords, strategy,
/// connection and output settings.
bool configure_chain(const RawOptions& raw, app::Config& config, std::ostream& err) {
  FileSettings settings;
  const std::string config_dir =
      app::config_dir(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  if (!collect_hops(raw, config_dir, config, settings, err)) {
    return false;
  }
  if (const std::string error = no_hop_error(raw, config.hops.empty(), config_dir);
      !error.empty()) {
    err << "hopchain: " << error << "\n";
    return false;
  }
  if (!fill_passwords(config.hops, config_dir, raw.quiet, err)) {
    return false;
  }
  if (!apply_strategy(raw, settings, config, err)) {
    return false;
  }
  config.connect_timeout = to_milliseconds(raw.connect_timeout);
  config.dns_servers = raw.dns_servers;
  config.pipeline = raw.pipeline == "always"  ? chain::PipelineMode::always
                    : raw.pipeline == "never" ? chain::PipelineMode::never
                                              : chain::PipelineMode::automatic;
  config.cafile = raw.cafile;
  config.verbosity = raw.quiet ? -1 : raw.verbose;
  config.stats = raw.stats;
  return true;
}

bool configure_stdio(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::stdio;
  auto target = app::parse_host_port(raw.host, raw.port);
  if (!target) {
    err << "hopchain: stdio: " << target.error() << "\n";
    return false;
  }
  config.target = std::move(*target);
  return true;
}

/// HOST:PORT as one argument (the port after the last colon; [v6] brackets allowed), or with
/// `port_optional` just HOST, meaning port 0.
Result<proto::HostPort> parse_joined_host_port(const std::string& text, bool port_optional) {
  const auto colon = text.rfind(':');
  const bool bare_v6 = colon != std::string::npos && text.front() != '[' &&
                       text.find(':') != colon;  // "::1": all of it is the host
  if (colon == std::string::npos || (port_optional && bare_v6) ||
      (port_optional && text.back() == ']')) {
    if (!port_optional) {
      return failure("expected HOST:PORT");
    }
    // The host checked as usual (ports are 1..65535 there); then port 0, "any port".
    auto host = app::parse_host_port(text, "1");
    if (host) {
      host->port = 0;
    }
    return host;
  }
  return app::parse_host_port(text.substr(0, colon), text.substr(colon + 1));
}

/// `remote HOST:PORT`, or `remote --stdio`.
bool configure_remote(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::remote;
  config.remote_once = raw.remote_once || raw.remote_stdio;
  config.remote_stdio = raw.remote_stdio;
  config.remote_json = raw.remote_json;
  config.accept_timeout = to_milliseconds(raw.accept_timeout);
  if (raw.remote_stdio && raw.remote_json) {
    err << "hopchain: remote: --stdio and --json both want stdout; give one of them\n";
    return false;
  }
  if (raw.remote_stdio != raw.remote_target.empty()) {
    err << "hopchain: remote: give either HOST:PORT or --stdio\n";
    return false;
  }
  if (!raw.remote_expect.empty()) {
    auto expect = parse_joined_host_port(raw.remote_expect, true);
    if (!expect) {
      err << "hopchain: remote: bad --expect '" << raw.remote_expect << "': " << expect.error()
          << "\n";
      return false;
    }
    config.remote_expect = std::move(*expect);
  }
  if (raw.remote_stdio) {
    return true;
  }
  auto target = parse_joined_host_port(raw.remote_target, false);
  if (!target) {
    err << "hopchain: remote: bad target '" << raw.remote_target << "': " << target.error() << "\n";
    return false;
  }
  config.remote_target = std::move(*target);
  return true;
}

/// `redirect [--udp] [BIND:]PORT`.
bool configure_redirect(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::redirect;
  config.redirect_udp = raw.redirect_udp;
  auto listen = app::parse_listen_spec(raw.redirect_listen);
  if (!listen) {
    err << "hopchain: redirect: " << listen.error() << "\n";
    return false;
  }
  config.redirect_listen = std::move(*listen);
  return true;
}

/// Beyond loopback a server without --users is an open proxy: refused unless --open says so.
bool check_socks_exposure(const RawOptions& raw, const app::Config& config, std::ostream& err) {
  const std::string where = app::listen_text(config.socks_listen);
  if (config.socks_users.empty() && config.socks_gssapi.keytab.empty() &&
      !app::is_loopback_bind(config.socks_listen.host)) {
    if (!raw.socks_open) {
      err << "hopchain: socks: refusing to listen on " << where
          << " without --users: anyone who can reach that address could use the chain as an "
             "open proxy, and open proxies get found and abused. Listen on 127.0.0.1 or [::1], "
             "require passwords with --users FILE, or pass --open if that is really meant.\n";
      return false;
    }
    if (!raw.quiet) {
      err << "hopchain: warning: the SOCKS server on " << where
          << " is open to anyone who can reach it (--open)\n";
    }
  }
  return true;
}

/// --gssapi-keytab and its settings; "" or what is wrong.
std::string gssapi_settings(const RawOptions& raw, app::GssapiServerSettings& settings) {
  if (raw.socks_gssapi_keytab.empty()) {
    return raw.socks_gssapi_service.empty() && raw.socks_gssapi_max.empty()
               ? std::string()
               : "--gssapi-service and --gssapi-max-protection need --gssapi-keytab";
  }
  if (!transport::gss_available()) {
    return "--gssapi-keytab: " + make_error_code(proto::GssStatus::unavailable).message();
  }
  if (std::FILE* f = std::fopen(raw.socks_gssapi_keytab.c_str(), "rb")) {
    std::fclose(f);
  } else {
    return "--gssapi-keytab: cannot read " + raw.socks_gssapi_keytab + ": " + std::strerror(errno);
  }
  settings.keytab = raw.socks_gssapi_keytab;
  if (!raw.socks_gssapi_service.empty()) {
    const std::string& name = raw.socks_gssapi_service;
    const auto bad = [](char c) { return c == '/' || c == '@' || c <= ' ' || c == 0x7F; };
    if (name.size() > 255 || std::any_of(name.begin(), name.end(), bad)) {
      return "--gssapi-service: '" + name + "' is not a service name (no '/', '@' or space)";
    }
    settings.service = name;
  }
  if (!raw.socks_gssapi_max.empty()) {
    settings.max_protection = *proto::parse_protection(raw.socks_gssapi_max);
  }
  return {};
}

bool configure_socks(const RawOptions& raw, const CLI::App& socks, app::Config& config,
                     std::ostream& err) {
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
  if (error.empty()) {
    error = gssapi_settings(raw, config.socks_gssapi);
  }
  if (!error.empty()) {
    err << "hopchain: socks: " << error << "\n";
    return false;
  }
  config.socks_udp_any_port = raw.socks_udp_any_port;
  error = access_rules(socks, config.socks_access);
  if (!error.empty()) {
    err << "hopchain: socks: " << error << "\n";
    return false;
  }
  const bool exposed = !app::is_loopback_bind(config.socks_listen.host);
  config.socks_access.refuse_local = exposed && !raw.socks_allow_local;
  return check_socks_exposure(raw, config, err);
}

bool configure_check(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::check;
  config.check_json = raw.check_json;
  config.check_bind = raw.check_bind;
  if (raw.check_host.empty() != raw.check_port.empty()) {
    err << "hopchain: check: give both HOST and PORT, or neither\n";
    return false;
  }
  if (!raw.check_host.empty()) {
    auto target = app::parse_host_port(raw.check_host, raw.check_port);
    if (!target) {
      err << "hopchain: check: " << target.error() << "\n";
      return false;
    }
    config.check_target = std::move(*target);
  }
  return true;
}

/// The SPECs of `forward` or `udp` (named `mode` in errors); `port_of` reads their port names.
bool parse_forward_specs(const std::vector<std::string>& texts, const char* mode,
                         proto::ServiceLookup port_of, std::vector<app::ForwardSpec>& specs,
                         std::ostream& err) {
  for (const auto& text : texts) {
    auto spec = app::parse_forward_spec(text, port_of);
    if (!spec) {
      err << "hopchain: " << mode << ": " << spec.error() << "\n";
      return false;
    }
    specs.push_back(std::move(*spec));
  }
  return true;
}

bool configure_udp(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::udp;
  config.udp_timeout = to_milliseconds(raw.udp_timeout);
  config.udp_max_sources = raw.udp_max_sources;
  return parse_forward_specs(raw.udp_specs, "udp", app::udp_service_port, config.udp_forwards, err);
}

bool configure_forward(const RawOptions& raw, app::Config& config, std::ostream& err) {
  config.mode = app::Mode::forward;
  config.forward_workers = raw.forward_workers;
  return parse_forward_specs(raw.forwards, "forward", app::tcp_service_port, config.forwards, err);
}

/// `exec [--dns MODE] [--no-udp] [--] CMD [ARGS...]`: CMD is what the subcommand left over.
bool configure_exec(const RawOptions& raw, const CLI::App& exec, app::Config& config,
                    std::ostream& err) {
  config.mode = app::Mode::exec;
  config.exec_dns = raw.exec_dns == "chain" ? app::ExecDns::chain : app::ExecDns::fake;
  config.exec_udp = !raw.exec_no_udp;
  // `exec -- CMD ARGS`: CMD is all after `--`. `exec CMD ARGS -- MORE`: that `--` was CMD's.
  config.exec_argv = exec.remaining();
  if (!config.exec_argv.empty() && raw.exec_split) {
    config.exec_argv.push_back("--");
  }
  config.exec_argv.insert(config.exec_argv.end(), raw.exec_command.begin(), raw.exec_command.end());
  if (config.exec_argv.empty()) {
    err << "hopchain: exec: no command given (hopchain [chain options] exec -- CMD [ARGS...])\n";
    return false;
  }
  return true;
}

/// The subcommand given, with its own options and arguments.
bool configure_mode(const RawOptions& raw, const Subcommands& commands, app::Config& config,
                    std::ostream& err) {
  if (commands.stdio->parsed()) {
    return configure_stdio(raw, config, err);
  }
  if (commands.socks->parsed()) {
    return configure_socks(raw, *commands.socks, config, err);
  }
  if (commands.check->parsed()) {
    return configure_check(raw, config, err);
  }
  if (commands.udp->parsed()) {
    return configure_udp(raw, config, err);
  }
  if (commands.remote->parsed()) {
    return configure_remote(raw, config, err);
  }
  if (commands.redirect->parsed()) {
    return configure_redirect(raw, config, err);
  }
  if (commands.exec->parsed()) {
    return configure_exec(raw, *commands.exec, config, err);
  }
  return configure_forward(raw, config, err);
}

/// Moves what follows the first `--` after an `exec` word into raw.exec_command, and returns the
/// count of the words CLI11 is to parse. CLI11 would hand them to the top level, which has no
/// use for them; everything after `--` is the command's, options included.
int split_exec_command(int argc, const char* const* argv, RawOptions& raw) {
  const auto* const end = argv + argc;
  const auto* const exec =
      std::find_if(argv + 1, end, [](const char* a) { return std::string_view(a) == "exec"; });
  const auto* const mark =
      std::find_if(exec, end, [](const char* a) { return std::string_view(a) == "--"; });
  if (mark == end) {
    return argc;
  }
  raw.exec_command.assign(mark + 1, end);
  raw.exec_split = true;
  return static_cast<int>(mark - argv);
}

}  // namespace

ParseOutcome parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  RawOptions raw;
  argc = split_exec_command(argc, argv, raw);
  CLI::App app{
      "hopchain: tunnel through a chain of SOCKS4, SOCKS4a, SOCKS5 and HTTP CONNECT proxies.",
      "hopchain"};
  const Subcommands commands = declare_command_line(app, raw);
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
  if (!configure_chain(raw, config, err) || !configure_mode(raw, commands, config, err)) {
    return {std::nullopt, kUsageError};
  }
  return {std::move(config), 0};
}

}  // namespace hc::cli
