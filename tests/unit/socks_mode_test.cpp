// The socks mode's pieces outside the codec: which SOCKS5 REP a chain failure becomes, the
// --users file (format, permissions, never echoing a password) and the password check.
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "app/socks_reply.hpp"
#include "app/users_file.hpp"
#include "chain/chain_error.hpp"
#include "proto/errors.hpp"
#include "transport/asio.hpp"

using hc::chain::ChainErrc;
using hc::chain::ChainError;
using hc::proto::Credentials;
using hc::proto::Stage;

namespace {

ChainError failure(std::size_t hop, Stage stage, std::error_code ec) {
  ChainError e;
  e.hop = hop;
  e.hops = 2;
  e.stage = stage;
  e.ec = ec;
  return e;
}

/// A file in the temp directory with `text` and `mode`, removed when the object goes.
struct TempFile {
  std::string path;
  TempFile(const std::string& text, mode_t mode) {
    char name[] = "/tmp/hc-users-XXXXXX";
    const int fd = mkstemp(name);
    BOOST_REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << text;
    BOOST_REQUIRE(chmod(path.c_str(), mode) == 0);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(socks_mode)

BOOST_AUTO_TEST_CASE(reply_code_for_chain_failures) {
  using hc::app::socks5_reply_for;
  // A hop's own SOCKS5 REP goes to the client as it is, whichever hop gave it.
  BOOST_TEST(socks5_reply_for(failure(2, Stage::request, hc::proto::socks5_reply(2))) == 0x02);
  BOOST_TEST(socks5_reply_for(failure(1, Stage::request, hc::proto::socks5_reply(5))) == 0x05);
  BOOST_TEST(socks5_reply_for(failure(2, Stage::request, hc::proto::socks5_reply(4))) == 0x04);
  // A hop that failed in another way says nothing about the target: general failure.
  BOOST_TEST(socks5_reply_for(failure(1, Stage::connect, asio::error::connection_refused)) == 1);
  BOOST_TEST(socks5_reply_for(failure(1, Stage::request, hc::proto::socks4_reply(0x5B))) == 1);
  BOOST_TEST(socks5_reply_for(failure(2, Stage::request, hc::proto::http_status(403))) == 1);
  BOOST_TEST(socks5_reply_for(failure(2, Stage::auth, ChainErrc::timed_out)) == 1);
  // A direct connection: the network error in RFC 1928 terms.
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, asio::error::connection_refused)) == 5);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, asio::error::host_unreachable)) == 4);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, asio::error::network_unreachable)) == 3);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, asio::error::timed_out)) == 6);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, ChainErrc::timed_out)) == 6);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::resolve, asio::error::host_not_found)) == 4);
  // The server's own rules refused every address of the target: "not allowed by ruleset".
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, ChainErrc::not_allowed)) == 2);
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, asio::error::connection_reset)) == 1);
  // A proxy loop is refused by rule, wherever it was seen.
  BOOST_TEST(socks5_reply_for(failure(0, Stage::connect, ChainErrc::own_listener)) == 0x02);
  BOOST_TEST(socks5_reply_for(failure(1, Stage::connect, ChainErrc::own_listener)) == 0x02);
  BOOST_TEST(socks5_reply_for(failure(2, Stage::request, ChainErrc::own_listener)) == 0x02);
}

BOOST_AUTO_TEST_CASE(users_file_format) {
  std::vector<Credentials> users;
  const std::string text =
      "# accounts\n"
      "alice:secret1\n"
      "\n"
      "   # indented comment\n"
      "bob:pa:ss#word with space\r\n"
      "carol:x";
  auto parsed = hc::app::parse_users(text);
  BOOST_REQUIRE(parsed.has_value());
  users = std::move(*parsed);
  BOOST_REQUIRE(users.size() == 3u);
  BOOST_TEST(users[0].user == "alice");
  BOOST_TEST(users[0].password == "secret1");
  BOOST_TEST(users[1].user == "bob");
  BOOST_TEST(users[1].password == "pa:ss#word with space");
  BOOST_TEST(users[2].password == "x");
}

BOOST_AUTO_TEST_CASE(users_file_errors_name_the_line_not_the_password) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"alice:ok\nnocolon-hunter2\n", "line 2: expected user:password"},
      {":hunter2\n", "line 1: empty user or password"},
      {"alice:\n", "line 1: empty user or password"},
      {"alice:" + std::string(256, 'p') + "\n", "line 1: user or password longer than 255"},
      {std::string(256, 'u') + ":hunter2\n", "line 1: user or password longer than 255"},
      {"alice:hunter2\nalice:other\n", "line 2: user listed twice"},
      {"# nothing\n\n", "no user:password line"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text.substr(0, 40)) {
      const auto users = hc::app::parse_users(c.text);
      BOOST_REQUIRE(!users.has_value());
      const std::string& error = users.error();
      BOOST_TEST(error.find(c.want) != std::string::npos, error);
      BOOST_TEST(error.find("hunter2") == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(users_file_permissions) {
  const auto error_of = [](const hc::Result<std::vector<Credentials>>& r) {
    return r ? std::string() : r.error();
  };
  {
    TempFile f("alice:secret1\n", 0600);
    const auto users = hc::app::load_users_file(f.path);
    BOOST_REQUIRE(users.has_value());
    BOOST_TEST(users->size() == 1u);
  }
  {
    TempFile f("alice:secret1\n", 0400);
    BOOST_TEST(error_of(hc::app::load_users_file(f.path)).empty());
  }
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0620}) {
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      TempFile f("alice:secret1\n", mode);
      const std::string error = error_of(hc::app::load_users_file(f.path));
      BOOST_TEST(error.find("too open") != std::string::npos, error);
      BOOST_TEST(error.find("chmod 600") != std::string::npos, error);
      BOOST_TEST(error.find(f.path) != std::string::npos);
      BOOST_TEST(error.find("secret1") == std::string::npos);
    }
  }
  BOOST_TEST(!error_of(hc::app::load_users_file("/nonexistent/hc-users")).empty());
  BOOST_TEST(error_of(hc::app::load_users_file("/tmp")).find("not a regular file") !=
             std::string::npos);
  TempFile bad("alice:hunter2\nbroken\n", 0600);
  const std::string error = error_of(hc::app::load_users_file(bad.path));
  BOOST_TEST(error.find("line 2") != std::string::npos, error);
  BOOST_TEST(error.find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(password_check) {
  const std::vector<Credentials> users = {{"alice", "secret1"}, {"bob", "pw"}};
  using hc::app::check_user;
  BOOST_TEST(check_user(users, "alice", "secret1"));
  BOOST_TEST(check_user(users, "bob", "pw"));
  BOOST_TEST(!check_user(users, "alice", "pw"));
  BOOST_TEST(!check_user(users, "alice", "secret"));
  BOOST_TEST(!check_user(users, "alice", "secret12"));
  BOOST_TEST(!check_user(users, "alice", ""));
  BOOST_TEST(!check_user(users, "carol", "secret1"));
  BOOST_TEST(!check_user(users, "ALICE", "secret1"));
  BOOST_TEST(!check_user({}, "alice", "secret1"));
}

BOOST_AUTO_TEST_SUITE_END()
