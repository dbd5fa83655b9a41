// Which chains can BIND at their last hop: refused before anything connects, with the hop named.
// And LastHopBind over a scripted chain of three SOCKS5 hops (tests/support/chain_script.hpp):
// the request carries the expected peer, the first reply's 0.0.0.0 becomes the hop's host, the
// second reply names the peer and bytes glued to it stay in the stream; a refused or cut second
// reply fails at the accept stage of hop 3/3, a 0x07 first reply means "no BIND there".
#include "chain/bind_at_last_hop.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "dns/resolver.hpp"
#include "proto/errors.hpp"
#include "proto/proxy_url.hpp"
#include "support/chain_script.hpp"

namespace {

using hc::test::Bytes;
using hc::test::Script;

/// What one scripted BIND did: the first reply, then the second, then what the stream held.
struct BindRun {
  std::optional<hc::chain::ChainError> error;  ///< from open() or accept()
  bool opened = false;
  hc::proto::HostPort listening;
  std::string unspecified;  ///< answered_unspecified()
  hc::proto::HostPort peer;
  std::string payload;  ///< what the stream gave after the second reply, up to EOF
};

hc::awaitable<void> bind_through(hc::chain::Services& services, hc::proto::HostPort expected,
                                 BindRun& run) {
  auto bind =
      co_await hc::chain::LastHopBind::open(hc::test::three_hops(), services, std::move(expected));
  if (!bind) {
    run.error = bind.error();
    co_return;
  }
  run.opened = true;
  run.listening = bind->listening();
  run.unspecified = bind->answered_unspecified();
  auto peer = co_await bind->accept(std::chrono::seconds(2));
  if (!peer) {
    run.error = peer.error();
    co_return;
  }
  run.peer = *peer;
  std::array<std::uint8_t, 64> buf{};
  for (int i = 0; i < 16; ++i) {
    auto [ec, n] = co_await bind->stream().read_some(buf);
    if (ec || n == 0) {
      break;
    }
    run.payload.append(buf.begin(), buf.begin() + static_cast<long>(n));
  }
}

BindRun run_bind(const std::shared_ptr<Script>& script,
                 hc::proto::HostPort expected = hc::chain::kAnyPeer) {
  asio::io_context io;
  hc::dns::Resolver resolver(io.get_executor(), {});
  hc::chain::Services services{resolver, std::chrono::milliseconds(2000)};
  services.pipeline_mode = hc::chain::PipelineMode::never;
  services.connector = [script](const hc::proto::HostPort&) {
    return hc::test::connect_scripted(script);
  };
  BindRun run;
  asio::co_spawn(io, bind_through(services, std::move(expected), run),
                 [](std::exception_ptr e) { BOOST_REQUIRE(!e); });
  io.run_for(std::chrono::seconds(5));
  return run;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// Hops 1 and 2 grant their CONNECT; hop 3 takes method 0 and answers the BIND.
const Bytes kMethodOk{5, 0};
const Bytes kFirstReplyAny{5, 0, 0, 1, 0, 0, 0, 0, 0x9c, 0x40};     // 0.0.0.0:40000
const Bytes kSecondReply{5, 0, 0, 1, 198, 51, 100, 9, 0x30, 0x39};  // 198.51.100.9:12345
const Bytes kBindRequest{5, 2, 0, 1, 192, 0, 2, 7, 0, 21};          // expect 192.0.2.7:21

hc::chain::Hops hops_of(const std::vector<std::string>& urls) {
  std::vector<hc::proto::HopSpec> specs;
  for (const auto& url : urls) {
    hc::proto::HopSpec hop;
    BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, hop));
    specs.push_back(hop);
  }
  return *hc::chain::compile_hops(specs, "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bind_at_last_hop)

BOOST_AUTO_TEST_CASE(socks_last_hops_can_bind) {
  for (const char* last : {"socks5://192.0.2.2:1080", "socks5h://192.0.2.2:1080",
                           "socks4://192.0.2.2:1080", "socks4a://192.0.2.2:1080"}) {
    BOOST_TEST(!hc::chain::bind_refusal(hops_of({"http://192.0.2.1:3128", last})), last);
  }
}

BOOST_AUTO_TEST_CASE(http_last_hop_is_refused_by_name) {
  const auto refusal = hc::chain::bind_refusal(
      hops_of({"socks5://192.0.2.1:1080", "http://user:secret@192.0.2.2:3128"}));
  BOOST_REQUIRE(refusal);
  BOOST_TEST(*refusal == "hop 2/2 http://user@192.0.2.2:3128: BIND needs a SOCKS4 or SOCKS5 hop");
  BOOST_TEST(refusal->find("secret") == std::string::npos);  // never the password
}

BOOST_AUTO_TEST_CASE(no_hop_is_refused) {
  const auto refusal = hc::chain::bind_refusal({});
  BOOST_REQUIRE(refusal);
  BOOST_TEST(refusal->find("BIND needs a SOCKS4 or SOCKS5 hop") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(both_replies_through_three_hops) {
  auto script = std::make_shared<Script>();
  script->incoming = concat({hc::test::replies(2), kMethodOk, kFirstReplyAny, kSecondReply,
                             Bytes{'h', 'e', 'l', 'l', 'o'}});
  const BindRun run = run_bind(script, {"192.0.2.7", 21});
  BOOST_TEST_REQUIRE(!run.error.has_value(), (run.error ? run.error->message() : std::string()));
  // 0.0.0.0 means "the hop's own address": its host as the chain names it.
  BOOST_TEST(run.listening.to_string() == "192.0.2.3:40000");
  BOOST_TEST(run.unspecified == "0.0.0.0");
  BOOST_TEST(run.peer.to_string() == "198.51.100.9:12345");
  BOOST_TEST(run.payload == "hello");  // glued to the second reply: the peer's first bytes
  // The last thing written is hop 3's BIND request, naming the expected peer.
  const Bytes& w = script->written;
  BOOST_TEST_REQUIRE(w.size() >= kBindRequest.size());
  BOOST_TEST(Bytes(w.end() - static_cast<long>(kBindRequest.size()), w.end()) == kBindRequest);
}

BOOST_AUTO_TEST_CASE(second_reply_refused_or_cut) {
  auto script = std::make_shared<Script>();
  script->incoming = concat(
      {hc::test::replies(2), kMethodOk, kFirstReplyAny, Bytes{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}});
  BindRun run = run_bind(script);
  BOOST_TEST_REQUIRE(run.error.has_value());
  BOOST_TEST(run.opened);
  BOOST_TEST(run.error->hop == 3u);
  BOOST_TEST(run.error->hops == 3u);
  BOOST_TEST(static_cast<int>(run.error->stage) == static_cast<int>(hc::proto::Stage::accept));
  BOOST_TEST(run.error->ec == hc::proto::socks5_reply(0x02), run.error->message());
  BOOST_TEST(!hc::chain::bind_unsupported(*run.error));

  for (std::size_t cut = 0; cut < kSecondReply.size(); ++cut) {
    script = std::make_shared<Script>();
    script->incoming = concat({hc::test::replies(2), kMethodOk, kFirstReplyAny, kSecondReply});
    script->eof_at = script->incoming.size() - kSecondReply.size() + cut;
    run = run_bind(script);
    BOOST_TEST_CONTEXT("second reply cut after " << cut << " bytes") {
      BOOST_TEST_REQUIRE(run.error.has_value());
      BOOST_TEST(run.opened);
      BOOST_TEST(static_cast<int>(run.error->stage) == static_cast<int>(hc::proto::Stage::accept));
      BOOST_TEST(run.error->ec == hc::chain::ChainErrc::closed_during_handshake,
                 run.error->message());
    }
  }
}

BOOST_AUTO_TEST_CASE(first_reply_0x07_means_no_bind_there) {
  auto script = std::make_shared<Script>();
  script->incoming = concat({hc::test::replies(2), kMethodOk, Bytes{5, 7, 0, 1, 0, 0, 0, 0, 0, 0}});
  const BindRun run = run_bind(script);
  BOOST_TEST_REQUIRE(run.error.has_value());
  BOOST_TEST(!run.opened);
  BOOST_TEST(run.error->hop == 3u);
  BOOST_TEST(static_cast<int>(run.error->stage) == static_cast<int>(hc::proto::Stage::request));
  BOOST_TEST(hc::chain::bind_unsupported(*run.error));
  BOOST_TEST(run.error->message().find("BIND refused") != std::string::npos, run.error->message());
  // A hop that hangs up on the request (ssh -D) is the same.
  script = std::make_shared<Script>();
  script->incoming = concat({hc::test::replies(2), kMethodOk});
  BOOST_TEST(hc::chain::bind_unsupported(*run_bind(script).error));
}

BOOST_AUTO_TEST_SUITE_END()
