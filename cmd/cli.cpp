#include "cli.hpp"

#include <cmath>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/endpoint_syntax.hpp"
#include "proto/proxy_url.hpp"

namespace hc::cli {
namespace {

constexpr int kUsageError = 2;

constexpr const char* kFooter = R"(URL schemes (how each hop is asked for the next address):
  socks4://[user@]host[:1080]              IPv4 address; hopchain resolves names
  socks4a://[user@]host[:1080]             the name, resolved by the hop
  socks5://[user[:pass]@]host[:1080]       an address; hopchain resolves names
  socks5h://[user[:pass]@]host[:1080]      the name, resolved by the hop
  http://[user:pass@]host[:8080]           HTTP CONNECT; the name, resolved by the hop

Examples:
  hopchain -x socks5h://bastion:1080 -x http://proxy:3128 stdio example.org 22
  ssh -o ProxyCommand='hopchain -f ~/chain.txt stdio %h %p' user@host
  hopchain -x socks5://127.0.0.1:1080 forward 8080:intranet.example:80 [::1]:2222:git:22

Exit status: 0 success, 1 chain or network failure, 2 usage error.)";

struct RawOptions {
  std::vector<std::string> via;
  std::string chain_file;
  double connect_timeout = 10.0;
  std::vector<std::string> dns_servers;
  int verbose = 0;
  bool quiet = false;
  std::string host;
  std::string port;
  std::vector<std::string> forwards;
};

/// Never echoes the URL itself: it may hold a password.
bool add_hop(const std::string& url, const std::string& origin, std::vector<proto::HopSpec>& hops,
             std::ostream& err) {
  proto::HopSpec hop;
  if (const auto ec = proto::parse_proxy_url(url, hop)) {
    err << "hopchain: " << origin << ": bad proxy URL: " << ec.message() << "\n";
    return false;
  }
  hops.push_back(std::move(hop));
  return true;
}

bool read_chain_file(const std::string& path, std::vector<proto::HopSpec>& hops,
                     std::ostream& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "hopchain: cannot read chain file " << path << "\n";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto result = proto::parse_chain_file(text.str());
  if (result.ec) {
    err << "hopchain: " << path << ":" << result.error_line << ": bad proxy URL: "
        << result.ec.message() << "\n";
    return false;
  }
  for (auto& hop : result.hops) {
    hops.push_back(std::move(hop));
  }
  return true;
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

  app.add_option("-x,--via", raw.via, "Add a hop (proxy URL); repeat in path order, nearest first")
      ->type_name("URL");
  app.add_option("-f,--chain-file", raw.chain_file,
                 "Read hops from FILE, one URL per line, # comments (before any -x hops)")
      ->type_name("FILE");
  app.add_option("--connect-timeout", raw.connect_timeout,
                 "Seconds allowed for each hop's connect and for each handshake (default 10)")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--dns-server", raw.dns_servers,
                 "Resolve names with this DNS server instead of the system's (repeatable)")
      ->type_name("IP[:PORT]");
  app.add_flag("-v,--verbose", raw.verbose, "Log chain steps with per-hop timing (-vv: more)");
  app.add_flag("-q,--quiet", raw.quiet, "Print nothing but errors");

  auto* stdio = app.add_subcommand("stdio", "Join stdin and stdout to HOST:PORT through the chain");
  stdio->add_option("HOST", raw.host, "Target host (name or address)")->required();
  stdio->add_option("PORT", raw.port, "Target port")->required();

  auto* forward =
      app.add_subcommand("forward", "Forward local ports through the chain, a fresh chain per connection");
  forward->add_option("SPEC", raw.forwards, "[BIND:]LPORT:HOST:PORT; BIND defaults to 127.0.0.1, * = all")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return {std::nullopt, code == 0 ? 0 : kUsageError};
  }

  app::Config config;
  if (!raw.chain_file.empty() && !read_chain_file(raw.chain_file, config.hops, err)) {
    return {std::nullopt, kUsageError};
  }
  for (std::size_t i = 0; i < raw.via.size(); ++i) {
    if (!add_hop(raw.via[i], "--via #" + std::to_string(i + 1), config.hops, err)) {
      return {std::nullopt, kUsageError};
    }
  }
  config.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(std::ceil(raw.connect_timeout * 1000)));
  config.dns_servers = raw.dns_servers;
  config.verbosity = raw.quiet ? -1 : raw.verbose;

  if (stdio->parsed()) {
    config.mode = app::Mode::stdio;
    const std::string error = app::parse_host_port(raw.host, raw.port, config.target);
    if (!error.empty()) {
      err << "hopchain: stdio: " << error << "\n";
      return {std::nullopt, kUsageError};
    }
  } else {
    config.mode = app::Mode::forward;
    for (const auto& text : raw.forwards) {
      app::ForwardSpec spec;
      const std::string error = app::parse_forward_spec(text, spec);
      if (!error.empty()) {
        err << "hopchain: forward: " << error << "\n";
        return {std::nullopt, kUsageError};
      }
      config.forwards.push_back(std::move(spec));
    }
  }
  return {std::move(config), 0};
}

}  // namespace hc::cli
