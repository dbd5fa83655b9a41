// Command-line parsing (cmd/cli) and the endpoint syntax it relies on: exit codes, hop order,
// forward specs, and that a bad URL is reported without echoing it (it may hold a password).
#include "cli.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "app/endpoint_syntax.hpp"
#include "usage_errors.hpp"

namespace {

struct Parsed {
  hc::cli::ParseOutcome outcome;
  std::string out;
  std::string err;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "hopchain");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  std::ostringstream out, err;
  auto outcome = hc::cli::parse(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(outcome), out.str(), err.str()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(stdio_with_hops_in_path_order) {
  auto p = parse({"-x", "socks5h://a:1080", "-x", "http://b", "-v", "stdio", "example.org", "22"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST(c.hops.size() == 2u);
  BOOST_TEST(c.hops[0].server.host == "a");
  BOOST_TEST(c.hops[1].server.port == 8080);
  BOOST_TEST(c.target.host == "example.org");
  BOOST_TEST(c.target.port == 22);
  BOOST_TEST(c.verbosity == 1);
  BOOST_TEST((c.mode == hc::app::Mode::stdio));
}

BOOST_AUTO_TEST_CASE(direct_flag_is_a_direct_connection) {
  auto p = parse({"--direct", "stdio", "[::1]", "22"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->hops.empty());
  BOOST_TEST(p.outcome.config->target.host == "::1");
}

BOOST_AUTO_TEST_CASE(verbosity_and_timeout) {
  auto p = parse({"--direct", "-vv", "--connect-timeout", "2.5", "stdio", "h", "1"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->verbosity == 2);
  BOOST_TEST(p.outcome.config->connect_timeout.count() == 2500);
  auto q = parse({"--direct", "-q", "stdio", "h", "1"});
  BOOST_REQUIRE(q.outcome.config);
  BOOST_TEST(q.outcome.config->verbosity == -1);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  BOOST_TEST(parse({}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "stdio", "h"}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "stdio", "h", "0"}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "stdio", "h", "65536"}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "forward", "8080"}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "--connect-timeout", "0", "stdio", "h", "1"}).outcome.exit_code ==
             2);
  BOOST_TEST(parse({"bogus"}).outcome.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(help_and_version_exit_0) {
  auto h = parse({"--help"});
  BOOST_TEST(!h.outcome.config);
  BOOST_TEST(h.outcome.exit_code == 0);
  BOOST_TEST(h.out.find("socks5h://") != std::string::npos);
  auto v = parse({"--version"});
  BOOST_TEST(v.outcome.exit_code == 0);
  BOOST_TEST(v.out.find("hopchain") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_url_is_not_echoed) {
  auto p = parse({"-x", "socks9://user:hunter2@host", "stdio", "h", "1"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find("unknown scheme") != std::string::npos);
  BOOST_TEST(p.err.find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(forward_specs) {
  auto p = parse(
      {"--direct", "forward", "8080:example.org:80", "[::1]:2222:[2001:db8::1]:22", "*:9:h:9"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& f = p.outcome.config->forwards;
  BOOST_REQUIRE(f.size() == 3u);
  BOOST_TEST(f[0].listen.host == "127.0.0.1");
  BOOST_TEST(f[0].listen.port == 8080);
  BOOST_TEST(f[0].target.host == "example.org");
  BOOST_TEST(f[1].listen.host == "::1");
  BOOST_TEST(f[1].target.host == "2001:db8::1");
  BOOST_TEST(f[1].target.port == 22);
  BOOST_TEST(f[2].listen.host.empty());
}

BOOST_AUTO_TEST_CASE(bad_forward_specs) {
  for (const char* text : {"", "80", "80:h", "0:h:80", "80:h:0", "80:h:x", "a.b:80:h:80",
                           "1:2:3:4:5", "[::1:80:h:80", "80:[::1]x:80"}) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(!hc::app::parse_forward_spec(text).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(socks_listen_addresses) {
  auto p = parse({"--direct", "socks", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST((p.outcome.config->mode == hc::app::Mode::socks));
  BOOST_TEST(p.outcome.config->socks_listen.host == "127.0.0.1");
  BOOST_TEST(p.outcome.config->socks_listen.port == 1080);
  BOOST_TEST(p.outcome.config->socks_users.empty());
  p = parse({"-x", "socks5h://a:1080", "socks", "[::1]:1081"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->socks_listen.host == "::1");
  BOOST_TEST(p.outcome.config->hops.size() == 1u);
  for (const char* loopback : {"localhost:9", "127.0.0.2:9", "[::ffff:127.0.0.1]:9"}) {
    BOOST_TEST_CONTEXT(loopback) {
      BOOST_TEST(parse({"--direct", "socks", loopback}).outcome.config.has_value());
    }
  }
  for (const char* bad : {"0", "65536", "x", "host.example:1080", "::1:1080", "1:2:3", ""}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(parse({"--direct", "socks", bad}).outcome.exit_code == 2);
    }
  }
  BOOST_TEST(parse({"--direct", "socks"}).outcome.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(socks_beyond_loopback_needs_users_or_open) {
  for (const char* open : {"*:1080", "0.0.0.0:1080", "[::]:1080", "192.0.2.1:1080"}) {
    BOOST_TEST_CONTEXT(open) {
      auto p = parse({"--direct", "socks", open});
      BOOST_TEST(!p.outcome.config);
      BOOST_TEST(p.outcome.exit_code == 2);
      BOOST_TEST(p.err.find("open proxy") != std::string::npos, p.err);
      BOOST_TEST(p.err.find("--open") != std::string::npos);
      auto q = parse({"--direct", "socks", "--open", open});
      BOOST_REQUIRE(q.outcome.config);
      BOOST_TEST(q.err.find("warning") != std::string::npos);
    }
  }
  auto p = parse({"--direct", "socks", "*:1080", "--open"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->socks_listen.host.empty());
}

BOOST_AUTO_TEST_CASE(socks_users_file) {
  char name[] = "/tmp/hc-cli-users-XXXXXX";
  const int fd = mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(name) << "alice:hunter2\n";
  BOOST_REQUIRE(chmod(name, 0600) == 0);
  auto p = parse({"--direct", "socks", "--users", name, "*:1080"});
  BOOST_REQUIRE(p.outcome.config);  // passwords required: no --open needed
  BOOST_REQUIRE(p.outcome.config->socks_users.size() == 1u);
  BOOST_TEST(p.outcome.config->socks_users[0].user == "alice");
  BOOST_TEST(p.err.empty());
  BOOST_REQUIRE(chmod(name, 0644) == 0);
  p = parse({"--direct", "socks", "--users", name, "1080"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find("too open") != std::string::npos, p.err);
  BOOST_TEST(p.err.find("hunter2") == std::string::npos);
  std::remove(name);
  p = parse({"--direct", "socks", "--users", name, "1080"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find(name) != std::string::npos, p.err);
}

BOOST_AUTO_TEST_CASE(socks_gssapi_options) {
  char name[] = "/tmp/hc-cli-keytab-XXXXXX";
  const int fd = mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  auto p = parse({"--direct", "socks", "--gssapi-keytab", name, "*:1080"});
  BOOST_REQUIRE(p.outcome.config);  // clients must authenticate: no --open needed
  const auto& gss = p.outcome.config->socks_gssapi;
  BOOST_TEST(gss.keytab == name);
  BOOST_TEST(gss.service == "rcmd");
  BOOST_TEST((gss.max_protection == hc::proto::Protection::confidentiality));
  p = parse({"--direct", "socks", "--gssapi-keytab", name, "--gssapi-service", "socks",
             "--gssapi-max-protection", "none", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->socks_gssapi.service == "socks");
  BOOST_TEST((p.outcome.config->socks_gssapi.max_protection == hc::proto::Protection::none));
  // Refusals: a bad level, a principal instead of a service, settings without a keytab.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--gssapi-max-protection", "privacy"},
        {"--gssapi-service", "rcmd/host"},
        {"--gssapi-service", "a@B"}}) {
    std::vector<std::string> argv{"--direct", "socks", "--gssapi-keytab", name};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("1080");
    p = parse(argv);
    BOOST_TEST(p.outcome.exit_code == 2, args[0]);
  }
  p = parse({"--direct", "socks", "--gssapi-service", "rcmd", "1080"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find("need --gssapi-keytab") != std::string::npos, p.err);
  std::remove(name);
  p = parse({"--direct", "socks", "--gssapi-keytab", name, "1080"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find(std::string("cannot read ") + name) != std::string::npos, p.err);
}

BOOST_AUTO_TEST_CASE(socks_target_rules) {
  // Loopback-only servers keep connecting anywhere; beyond loopback local targets are refused.
  auto p = parse({"--direct", "socks", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(!p.outcome.config->socks_access.active());
  p = parse({"--direct", "socks", "--open", "*:1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->socks_access.refuse_local);
  p = parse({"--direct", "socks", "--open", "--allow-local", "0.0.0.0:1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(!p.outcome.config->socks_access.refuse_local);

  // Rules keep their command-line order across --allow and --deny, one block per option.
  p = parse({"--direct", "socks", "--deny", "10.1.0.0/16", "--allow", "10.0.0.0/8", "--deny",
             "fe80::/10", "--allow", "127.0.0.5", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& rules = p.outcome.config->socks_access.rules;
  BOOST_REQUIRE(rules.size() == 4u);
  BOOST_TEST(!rules[0].allow);
  BOOST_TEST(rules[0].block.to_string() == "10.1.0.0/16");
  BOOST_TEST(rules[1].allow);
  BOOST_TEST(rules[1].block.to_string() == "10.0.0.0/8");
  BOOST_TEST(!rules[2].allow);
  BOOST_TEST(rules[2].block.to_string() == "fe80::/10");
  BOOST_TEST(rules[3].allow);
  BOOST_TEST(rules[3].block.to_string() == "127.0.0.5/32");
  BOOST_TEST(p.outcome.config->socks_listen.port == 1080);
  BOOST_TEST(p.outcome.config->socks_access.active());

  for (const char* bad : {"10.0.0.0/33", "example.org", "10.0.0.0/x"}) {
    BOOST_TEST_CONTEXT(bad) {
      auto q = parse({"--direct", "socks", "--deny", bad, "1080"});
      BOOST_TEST(!q.outcome.config);
      BOOST_TEST(q.outcome.exit_code == 2);
      BOOST_TEST(q.err.find("--deny: bad address block") != std::string::npos, q.err);
    }
  }
  BOOST_TEST(parse({"--direct", "socks", "--allow", "1080"}).outcome.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(socks_help) {
  auto h = parse({"--help"});
  BOOST_TEST(h.outcome.exit_code == 0);
  BOOST_TEST(h.out.find("socks") != std::string::npos);
  BOOST_TEST(h.out.find("--socks5-hostname 127.0.0.1:1080") != std::string::npos);
  auto s = parse({"socks", "--help"});
  BOOST_TEST(s.outcome.exit_code == 0);
  BOOST_TEST(s.out.find("--users") != std::string::npos);
  BOOST_TEST(s.out.find("--open") != std::string::npos);
  BOOST_TEST(s.out.find("--udp-any-port") != std::string::npos);
  auto p = parse({"--direct", "socks", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(!p.outcome.config->socks_udp_any_port);
  p = parse({"--direct", "socks", "--udp-any-port", "1080"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->socks_udp_any_port);
  for (const char* option : {"--allow-local", "--allow", "--deny"}) {
    BOOST_TEST(s.out.find(option) != std::string::npos, option);
  }
}

BOOST_AUTO_TEST_CASE(udp_specs_and_timeout) {
  auto p = parse({"-x", "socks5://a:1080", "udp", "5353:dns.example:53", "[::1]:6000:[::1]:7",
                  "*:6001:10.0.0.1:9"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST((c.mode == hc::app::Mode::udp));
  BOOST_REQUIRE(c.udp_forwards.size() == 3u);
  BOOST_TEST(c.udp_forwards[0].listen.host == "127.0.0.1");  // default bind: loopback
  BOOST_TEST(c.udp_forwards[0].listen.port == 5353);
  BOOST_TEST(c.udp_forwards[0].target.to_string() == "dns.example:53");
  BOOST_TEST(c.udp_forwards[1].listen.host == "::1");
  BOOST_TEST(c.udp_forwards[1].target.host == "::1");
  BOOST_TEST(c.udp_forwards[2].listen.host.empty());
  BOOST_TEST(c.udp_timeout.count() == 60000);  // default 60 s
  BOOST_TEST(c.udp_max_sources == 256u);
  BOOST_TEST(c.forwards.empty());

  p = parse({"--direct", "udp", "--udp-timeout", "2.5", "--udp-max-sources", "1000", "5353:h:53"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->udp_timeout.count() == 2500);
  BOOST_TEST(p.outcome.config->udp_max_sources == 1000u);
  BOOST_TEST(p.outcome.config->hops.empty());
}

BOOST_AUTO_TEST_CASE(remote_command) {
  auto p = parse({"-x", "socks5://gw:1080", "remote", "127.0.0.1:22"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST((c.mode == hc::app::Mode::remote));
  BOOST_TEST(c.remote_target.to_string() == "127.0.0.1:22");
  BOOST_TEST(!c.remote_once);
  BOOST_TEST(c.accept_timeout.count() == 600000);  // default 600 s

  p = parse({"-x", "socks4://gw:1080", "remote", "--once", "--accept-timeout", "1.5", "[::1]:ssh"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->remote_once);
  BOOST_TEST(p.outcome.config->accept_timeout.count() == 1500);
  BOOST_TEST(p.outcome.config->remote_target.host == "::1");
  BOOST_TEST(p.outcome.config->remote_target.port == 22);
  BOOST_TEST(!p.outcome.config->remote_expect);
}

BOOST_AUTO_TEST_CASE(remote_expect_json_and_stdio) {
  auto p = parse({"-x", "socks5://gw:1080", "remote", "--expect", "192.0.2.7", "--json", "h:22"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_REQUIRE(p.outcome.config->remote_expect);
  BOOST_TEST(p.outcome.config->remote_expect->to_string() == "192.0.2.7:0");  // any port
  BOOST_TEST(p.outcome.config->remote_json);
  BOOST_TEST(!p.outcome.config->remote_stdio);
  for (const auto& [expect, want] :
       std::vector<std::pair<std::string, std::string>>{{"192.0.2.7:2121", "192.0.2.7:2121"},
                                                        {"ftp.example:21", "ftp.example:21"},
                                                        {"::1", "[::1]:0"},
                                                        {"[::1]", "[::1]:0"},
                                                        {"[2001:db8::1]:20", "[2001:db8::1]:20"}}) {
    p = parse({"-x", "socks5://gw:1080", "remote", "--expect", expect, "h:22"});
    BOOST_REQUIRE(p.outcome.config);
    BOOST_TEST(p.outcome.config->remote_expect->to_string() == want, expect);
  }
  // --stdio: no HOST:PORT, and only one connection.
  p = parse({"-x", "socks5://gw:1080", "remote", "--stdio"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->remote_stdio);
  BOOST_TEST(p.outcome.config->remote_once);
}

BOOST_AUTO_TEST_CASE(bad_remote_arguments) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-x", "socks5://gw:1080", "remote"},
           {"-x", "socks5://gw:1080", "remote", "localhost"},
           {"-x", "socks5://gw:1080", "remote", "localhost:0"},
           {"-x", "socks5://gw:1080", "remote", ":22"},
           {"-x", "socks5://gw:1080", "remote", "--accept-timeout", "0", "h:22"},
           {"-x", "socks5://gw:1080", "remote", "--accept-timeout", "86401", "h:22"},
           {"-x", "socks5://gw:1080", "remote", "--stdio", "h:22"},
           {"-x", "socks5://gw:1080", "remote", "--stdio", "--json"},
           {"-x", "socks5://gw:1080", "remote", "--expect", "a b", "h:22"},
           {"-x", "socks5://gw:1080", "remote", "--expect", "h:99999", "h:22"}}) {
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(!p.err.empty());
  }
  auto p = parse({"-x", "socks5://gw:1080", "remote", "h:99999"});
  BOOST_TEST(p.err.find("hopchain: remote: bad target 'h:99999'") == 0u, p.err);
  p = parse({"-x", "socks5://gw:1080", "remote", "--stdio", "--json"});
  BOOST_TEST(p.err.find("--stdio and --json both want stdout") != std::string::npos, p.err);
  p = parse({"-x", "socks5://gw:1080", "remote", "--expect", "h:99999", "h:22"});
  BOOST_TEST(p.err.find("hopchain: remote: bad --expect 'h:99999'") == 0u, p.err);
}

BOOST_AUTO_TEST_CASE(redirect_command) {
  auto p = parse({"-x", "socks5://gw:1080", "redirect", "12345"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST((c.mode == hc::app::Mode::redirect));
  BOOST_TEST(c.redirect_listen.to_string() == "127.0.0.1:12345");  // loopback by default
  BOOST_TEST(!c.redirect_udp);

  p = parse({"-x", "socks5://gw:1080", "redirect", "--udp", "*:12345"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->redirect_udp);
  BOOST_TEST(p.outcome.config->redirect_listen.host.empty());  // every address
  BOOST_TEST(p.outcome.config->redirect_listen.port == 12345);
}

BOOST_AUTO_TEST_CASE(bad_redirect_arguments) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-x", "socks5://gw:1080", "redirect"},
           {"-x", "socks5://gw:1080", "redirect", "0"},
           {"-x", "socks5://gw:1080", "redirect", "127.0.0.1:1:2"},
           {"-x", "socks5://gw:1080", "redirect", "--udp", "nosuchservice"},
           {"redirect", "12345"}}) {  // no hop and no --direct
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(!p.err.empty());
  }
  auto p = parse({"-x", "socks5://gw:1080", "redirect", "99999"});
  BOOST_TEST(p.err.find("hopchain: redirect: ") == 0u, p.err);
}

BOOST_AUTO_TEST_CASE(exec_command) {
  auto p = parse({"-x", "socks5://gw:1080", "exec", "--", "curl", "-s", "--", "http://x/"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST((c.mode == hc::app::Mode::exec));
  BOOST_TEST((c.exec_argv == std::vector<std::string>{"curl", "-s", "--", "http://x/"}));
  BOOST_TEST((c.exec_dns == hc::app::ExecDns::fake));
  BOOST_TEST(c.exec_udp);
  // Without `--` the first word that is not exec's own starts the command, options and all.
  p = parse({"--direct", "exec", "--dns", "chain", "--no-udp", "ls", "-d", "--", "/"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST((p.outcome.config->exec_argv == std::vector<std::string>{"ls", "-d", "--", "/"}));
  BOOST_TEST((p.outcome.config->exec_dns == hc::app::ExecDns::chain));
  BOOST_TEST(!p.outcome.config->exec_udp);
}

BOOST_AUTO_TEST_CASE(bad_exec_arguments) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--direct", "exec"},
                                             {"--direct", "exec", "--"},
                                             {"--direct", "exec", "--dns", "udp", "--", "true"},
                                             {"exec", "--", "true"}}) {
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(!p.err.empty());
  }
  auto p = parse({"--direct", "exec", "--"});
  BOOST_TEST(p.err.find("hopchain: exec: no command given") == 0u, p.err);
}

BOOST_AUTO_TEST_CASE(bad_udp_arguments) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--direct", "udp"},
           {"--direct", "udp", "5353"},
           {"--direct", "udp", "0:h:53"},
           {"--direct", "udp", "5353:h:70000"},
           {"--direct", "udp", "--udp-timeout", "0", "5353:h:53"},
           {"--direct", "udp", "--udp-timeout", "-1", "5353:h:53"},
           {"--direct", "udp", "--udp-timeout", "soon", "5353:h:53"},
           {"--direct", "udp", "--udp-max-sources", "0", "5353:h:53"},
           {"--direct", "udp", "--udp-max-sources", "65537", "5353:h:53"},
           {"--direct", "udp", "--udp-max-sources", "-1", "5353:h:53"},
           {"--direct", "udp", "--udp-max-sources", "many", "5353:h:53"}}) {
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(!p.err.empty());
  }
  auto p = parse({"--direct", "udp", "5353:h:0"});
  BOOST_TEST(p.outcome.exit_code == 2);
  BOOST_TEST(p.err.find("hopchain: udp: ") == 0u, p.err);
}

BOOST_AUTO_TEST_CASE(udp_help) {
  auto h = parse({"--help"});
  BOOST_TEST(h.outcome.exit_code == 0);
  BOOST_TEST(h.out.find("udp 5353:dns.example:53") != std::string::npos);
  auto u = parse({"udp", "--help"});
  BOOST_TEST(u.outcome.exit_code == 0);
  BOOST_TEST(u.out.find("--udp-timeout") != std::string::npos);
  BOOST_TEST(u.out.find("--udp-max-sources") != std::string::npos);
  BOOST_TEST(u.out.find("SOCKS5") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// Strategies, named chains, credentials and `check`. XDG_CONFIG_HOME points at a fresh
// directory so the user's own files never take part.
namespace {

struct ConfigHome {
  std::string dir;
  ConfigHome() {
    char tmpl[] = "/tmp/hc_cli_test_XXXXXX";
    dir = ::mkdtemp(tmpl);
    ::mkdir((dir + "/hopchain").c_str(), 0700);
    ::mkdir((dir + "/hopchain/chains").c_str(), 0700);
    ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
    ::setenv("NETRC", (dir + "/netrc").c_str(), 1);  // never the user's own ~/.netrc
    ::unsetenv("HOPCHAIN_PASSWORD");
  }
  ~ConfigHome() {
    std::string cmd = "rm -rf '" + dir + "'";
    BOOST_TEST(std::system(cmd.c_str()) == 0);
    ::unsetenv("XDG_CONFIG_HOME");
    ::unsetenv("NETRC");
    ::unsetenv("HOPCHAIN_PASSWORD");
  }
  void write(const std::string& rel, const std::string& text, mode_t mode = 0600) const {
    const std::string path = dir + "/hopchain/" + rel;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_strategies)

BOOST_AUTO_TEST_CASE(strategy_options) {
  ConfigHome home;
  auto p = parse({"-x", "socks5h://a", "-x", "socks5h://b", "--strategy", "random", "--chain-len",
                  "2", "--max-fails", "3", "--fail-timeout", "1.5", "stdio", "h", "1"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& s = p.outcome.config->strategy;
  BOOST_TEST((s.strategy == hc::chain::Strategy::random));
  BOOST_TEST(s.chain_len == 2u);
  BOOST_TEST(s.max_fails == 3);
  BOOST_TEST(s.fail_timeout.count() == 1500);
  auto d = parse({"-x", "socks5h://a", "stdio", "h", "1"});
  BOOST_TEST((d.outcome.config->strategy.strategy == hc::chain::Strategy::strict));
  BOOST_TEST(d.outcome.config->strategy.max_fails == 1);
  BOOST_TEST(d.outcome.config->strategy.fail_timeout.count() == 30000);
}

BOOST_AUTO_TEST_CASE(bad_strategy_usage) {
  ConfigHome home;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-x", "socks5h://a", "--strategy", "sideways", "stdio", "h", "1"},
           {"-x", "socks5h://a", "--chain-len", "2", "stdio", "h", "1"},
           {"-x", "socks5h://a", "--strategy", "random", "--chain-len", "2", "stdio", "h", "1"},
           {"--strategy", "dynamic", "stdio", "h", "1"},
           {"-x", "socks5h://a", "--max-fails", "0", "stdio", "h", "1"}}) {
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
  }
}

BOOST_AUTO_TEST_CASE(named_chain_with_strategy_lines) {
  ConfigHome home;
  home.write("chains/work", "strategy round-robin\nchain-len 2\nsocks5h://a\nsocks5h://b\n");
  auto p = parse({"-c", "work", "-x", "http://c", "stdio", "h", "1"});
  BOOST_REQUIRE(p.outcome.config);
  const auto& c = *p.outcome.config;
  BOOST_TEST(c.hops.size() == 3u);
  BOOST_TEST(c.hops[2].server.host == "c");
  BOOST_TEST((c.strategy.strategy == hc::chain::Strategy::round_robin));
  BOOST_TEST(c.strategy.chain_len == 2u);
  auto o = parse({"-c", "work", "--strategy", "dynamic", "stdio", "h", "1"});
  BOOST_TEST((o.outcome.config->strategy.strategy == hc::chain::Strategy::dynamic));
  auto m = parse({"-c", "missing", "stdio", "h", "1"});
  BOOST_TEST(m.outcome.exit_code == 2);
  auto b = parse({"-c", "../work", "stdio", "h", "1"});
  BOOST_TEST(b.outcome.exit_code == 2);
}

// An empty chain is never a quiet direct connection: exit 2, naming the source that is empty.
BOOST_AUTO_TEST_CASE(no_hop_needs_direct) {
  ConfigHome home;
  home.write("chains/empty", "# socks5h://a\n\n   # socks5h://b\n");
  const std::string file = home.dir + "/hopchain/chains/empty";
  for (const auto& [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"stdio", "h", "1"}, "no hop given"},
           {{"socks", "1080"}, "no hop given"},
           {{"forward", "8080:h:80"}, "no hop given"},
           {{"udp", "5353:h:53"}, "no hop given"},
           {{"check"}, "no hop given"},
           {{"-c", "empty", "stdio", "h", "1"}, "chain 'empty' (" + file + ") has no hop"},
           {{"-f", file, "stdio", "h", "1"}, "chain file " + file + " has no hop"},
           {{"--direct", "-x", "socks5h://a", "stdio", "h", "1"}, "--direct means no hop"},
           {{"--direct", "-c", "work", "stdio", "h", "1"}, "no chain named 'work'"}}) {
    auto p = parse(args);
    BOOST_TEST(!p.outcome.config);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(p.err.find(want) != std::string::npos, p.err);
    if (want.find("no chain named") == std::string::npos && want != "--direct means no hop") {
      BOOST_TEST(p.err.find("--direct") != std::string::npos, p.err);
    }
  }
  home.write("chains/work", "socks5h://a\n");
  BOOST_TEST(parse({"--direct", "-c", "work", "stdio", "h", "1"}).outcome.exit_code == 2);
  BOOST_TEST(parse({"--direct", "stdio", "h", "1"}).outcome.config.has_value());
}

BOOST_AUTO_TEST_CASE(password_in_readable_chain_file_warns) {
  ConfigHome home;
  home.write("chains/open", "socks5h://u:sekrit@a\n", 0644);
  auto p = parse({"-c", "open", "stdio", "h", "1"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.err.find("warning") != std::string::npos, p.err);
  BOOST_TEST(p.err.find("sekrit") == std::string::npos);
  home.write("chains/closed", "socks5h://u:sekrit@a\n", 0600);
  BOOST_TEST(parse({"-c", "closed", "stdio", "h", "1"}).err.empty());
}

BOOST_AUTO_TEST_CASE(credentials_file_then_env_then_usage_error) {
  ConfigHome home;
  auto none = parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"});
  BOOST_TEST(none.outcome.exit_code == 2);
  BOOST_TEST(none.err.find("HOPCHAIN_PASSWORD") != std::string::npos, none.err);
  ::setenv("HOPCHAIN_PASSWORD", "fromenv", 1);
  auto env = parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"});
  BOOST_REQUIRE(env.outcome.config);
  BOOST_TEST(*env.outcome.config->hops[0].password == "fromenv");
  home.write("credentials", "machine a port 1080 login u password fromfile\n");
  auto file = parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"});
  BOOST_REQUIRE(file.outcome.config);
  BOOST_TEST(*file.outcome.config->hops[0].password == "fromfile");
  BOOST_TEST(file.err.empty());
  home.write("credentials", "machine a port 1080 login u password fromfile\n", 0640);
  auto loose = parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"});
  BOOST_TEST(loose.err.find("warning") != std::string::npos);
  BOOST_TEST(loose.err.find("fromfile") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(netrc_after_credentials_file_before_env) {
  ConfigHome home;
  ::setenv("HOPCHAIN_PASSWORD", "fromenv", 1);
  home.write("../netrc", "machine a login u password fromnetrc\n");
  auto netrc = parse({"-x", "socks5h://u@a:1080", "-x", "http://v@a:3128", "stdio", "h", "1"});
  BOOST_REQUIRE(netrc.outcome.config);
  BOOST_TEST(*netrc.outcome.config->hops[0].password == "fromnetrc");
  BOOST_TEST(*netrc.outcome.config->hops[1].password == "fromenv");  // login v: not the netrc's
  home.write("credentials", "machine a port 1080 login u password fromfile\n");
  auto file = parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"});
  BOOST_REQUIRE(file.outcome.config);
  BOOST_TEST(*file.outcome.config->hops[0].password == "fromfile");
  home.write("../netrc", "machine a login u password fromnetrc\n", 0644);
  BOOST_TEST(parse({"-x", "socks5h://u@a:1080", "stdio", "h", "1"}).err.empty());  // not read
  auto loose = parse({"-x", "socks5h://u@b:1080", "stdio", "h", "1"});
  BOOST_TEST(loose.outcome.exit_code == 2);
  BOOST_TEST(loose.err.find("permissions are too open (644)") != std::string::npos, loose.err);
  BOOST_TEST(loose.err.find("fromnetrc") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(service_name_ports) {
  auto p = parse({"-x", "socks5h://a:socks", "stdio", "h", "ssh"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->hops[0].server.port == 1080);
  BOOST_TEST(p.outcome.config->target.port == 22);
  auto bad = parse({"--direct", "stdio", "h", "htp"});
  BOOST_TEST(bad.outcome.exit_code == 2);
  BOOST_TEST(bad.err.find("unknown service name 'htp' (not in /etc/services)") != std::string::npos,
             bad.err);
  auto url = parse({"-x", "socks5h://a:htp", "stdio", "h", "1"});
  BOOST_TEST(url.outcome.exit_code == 2);
  BOOST_TEST(url.err.find("unknown service name") != std::string::npos, url.err);
}

BOOST_AUTO_TEST_CASE(check_subcommand) {
  ConfigHome home;
  auto p = parse({"-x", "socks5h://a", "check", "--json", "example.org", "443"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST((p.outcome.config->mode == hc::app::Mode::check));
  BOOST_TEST(p.outcome.config->check_json);
  BOOST_TEST(!p.outcome.config->check_bind);
  BOOST_TEST(parse({"-x", "socks5h://a", "check", "--bind"}).outcome.config->check_bind);
  BOOST_TEST(p.outcome.config->check_target->port == 443);
  auto bare = parse({"-x", "socks5h://a", "check"});
  BOOST_REQUIRE(bare.outcome.config);
  BOOST_TEST(!bare.outcome.config->check_target);
  BOOST_TEST(parse({"--direct", "check", "onlyhost"}).outcome.exit_code == 2);
  auto h = parse({"--help"});
  for (const char* opt :
       {"--strategy", "--chain-len", "--max-fails", "--fail-timeout", "--chain", "check"}) {
    BOOST_TEST(h.out.find(opt) != std::string::npos, opt);
  }
}

BOOST_AUTO_TEST_CASE(stats_flag) {
  auto p = parse({"--stats", "-q", "-x", "socks5://a:1080", "forward", "8080:b:80"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->stats);
  BOOST_TEST(p.outcome.config->verbosity == -1);
  auto plain = parse({"--direct", "stdio", "h", "1"});
  BOOST_REQUIRE(plain.outcome.config);
  BOOST_TEST(!plain.outcome.config->stats);
}

BOOST_AUTO_TEST_CASE(help_is_grouped_with_examples) {
  auto h = parse({"--help"});
  for (const char* group : {"Chain:", "Connection:", "Output:", "Examples:", "--stats"}) {
    BOOST_TEST(h.out.find(group) != std::string::npos, group);
  }
  for (const char* command : {"stdio", "forward", "socks", "udp", "check"}) {
    auto c = parse({command, "--help"});
    BOOST_TEST(c.outcome.exit_code == 0);
    BOOST_TEST(c.out.find("Example:\n  hopchain ") != std::string::npos, command);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// Usage errors: "hopchain: " on every line, what was wrong, then what to do; exit 2.
BOOST_AUTO_TEST_SUITE(cli_usage_errors)

BOOST_AUTO_TEST_CASE(common_slips_are_named) {
  ConfigHome home;
  home.write("chains/work", "socks5h://a\n");
  for (const auto& [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-x", "socks5h://a"}, "hopchain: no command given\n"},
           {{"-x", "socks5h://a", "stdo", "h", "1"},
            "unknown command 'stdo' (did you mean stdio?)"},
           {{"-x", "socks5h://a", "stdio", "h:22"}, "HOST and PORT are two arguments, not 'h:22'"},
           {{"-x", "socks5h://a", "stdio", "[::1]:22"}, "stdio ::1 22"},
           {{"-x", "socks5h://a", "--workers", "1", "forward", "1:h:2"},
            "--workers is an option of 'forward'"},
           {{"-c", "wrok", "stdio", "h", "1"},
            "no chain named 'wrok' in " + home.dir +
                "/hopchain/chains (did you mean work?)\n"
                "hopchain: the chains there: work\n"},
           {{"-x", "socks5h://a", "stdio", "h", "22", "extra"}, "not expected: extra"}}) {
    auto p = parse(args);
    BOOST_TEST(p.outcome.exit_code == 2);
    BOOST_TEST(p.err.find(want) != std::string::npos, p.err);
    std::size_t lines = 0;
    for (std::size_t at = 0; at < p.err.size(); at = p.err.find('\n', at) + 1) {
      BOOST_TEST(p.err.compare(at, 10, "hopchain: ") == 0, p.err);
      ++lines;
    }
    BOOST_TEST(lines == 2u, p.err);
  }
}

BOOST_AUTO_TEST_CASE(one_url_per_via) {
  auto p = parse({"stdio", "-x", "socks5h://a", "h", "22"});
  BOOST_REQUIRE(p.outcome.config);
  BOOST_TEST(p.outcome.config->hops.size() == 1u);
  BOOST_TEST(p.outcome.config->target.host == "h");
}

BOOST_AUTO_TEST_CASE(closest_names) {
  const std::vector<std::string> commands{"stdio", "forward", "socks", "udp", "check"};
  BOOST_TEST(hc::cli::closest_name("stdo", commands) == "stdio");
  BOOST_TEST(hc::cli::closest_name("sock", commands) == "socks");
  BOOST_TEST(hc::cli::closest_name("fowrard", commands) == "forward");
  BOOST_TEST(hc::cli::closest_name("xyz", commands).empty());
  BOOST_TEST(hc::cli::closest_name("u", commands).empty());
}

BOOST_AUTO_TEST_SUITE_END()
