/// The command line as CLI11 declares it: every option and subcommand, their help texts and
/// groups (so `--help` prints from here), bound to RawOptions. cli.cpp turns what was given into
/// an app::Config.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace hc::cli {

/// What the command line gave, as typed: checked for form by CLI11, not yet for meaning.
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
  std::string socks_gssapi_keytab;
  std::string socks_gssapi_service;
  std::string socks_gssapi_max;
  bool socks_open = false;
  bool socks_udp_any_port = false;
  bool socks_allow_local = false;
  std::vector<std::string> socks_allow;
  std::vector<std::string> socks_deny;
  std::vector<std::string> udp_specs;
  double udp_timeout = 60.0;
  std::size_t udp_max_sources = 256;
  std::string remote_target;
  bool remote_once = false;
  std::string remote_expect;
  bool remote_json = false;
  bool remote_stdio = false;
  double accept_timeout = 600.0;
  bool check_bind = false;
  std::string redirect_listen;
  bool redirect_udp = false;
  std::string exec_dns = "fake";
  bool exec_no_udp = false;
  std::vector<std::string> exec_command;  ///< exec: the words after its `--` (cli.cpp)
  bool exec_split = false;                ///< exec: a `--` was there
};

/// The subcommands, owned by the App they were added to; after parsing, the one given is
/// parsed().
struct Subcommands {
  CLI::App* stdio = nullptr;
  CLI::App* forward = nullptr;
  CLI::App* socks = nullptr;
  CLI::App* udp = nullptr;
  CLI::App* check = nullptr;
  CLI::App* remote = nullptr;
  CLI::App* redirect = nullptr;
  CLI::App* exec = nullptr;  ///< its command is what remains (prefix_command)
};

/// Declares hopchain's options and subcommands on `app` (the top-level App), each bound to its
/// field of `raw`, which must outlive the parse.
Subcommands declare_command_line(CLI::App& app, RawOptions& raw);

}  // namespace hc::cli
