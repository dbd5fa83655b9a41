/// The chain engine without sockets: Services::connector hands it a scripted stream that plays
/// three plain SOCKS5 hops (no auth) answering in turn, and fails one chosen write or read.
/// Each case checks which hop and stage the ChainError names, pipelined and not. A hop that ends
/// before the next hop said a word is the previous hop's failure (it granted a tunnel that then
/// ended), which the cases show too.
#include "chain/open_chain.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/probe_set.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "support/chain_script.hpp"

namespace {

using hc::awaitable;
using hc::chain::ChainErrc;
using hc::proto::Stage;
using Bytes = std::vector<std::uint8_t>;
using hc::test::connect_scripted;
using hc::test::replies;
using hc::test::Script;
using hc::test::three_hops;

hc::chain::ChainResult open(const std::shared_ptr<Script>& script, bool pipelined) {
  asio::io_context io;
  hc::dns::Resolver resolver(io.get_executor(), {});
  hc::chain::Services services{resolver, std::chrono::milliseconds(2000)};
  services.pipeline_mode =
      pipelined ? hc::chain::PipelineMode::always : hc::chain::PipelineMode::never;
  services.connector = [script](const hc::proto::HostPort&) { return connect_scripted(script); };
  hc::chain::ChainResult result;
  asio::co_spawn(io, hc::chain::open_chain(three_hops(), {"198.51.100.7", 22}, services),
                 [&](std::exception_ptr e, hc::chain::ChainResult r) {
                   BOOST_REQUIRE(!e);
                   result = std::move(r);
                 });
  io.run_for(std::chrono::seconds(5));
  return result;
}

struct Expected {
  std::size_t hop;
  Stage stage;
  std::error_code ec;
};

void check(const hc::chain::ChainResult& result, const Expected& want, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_TEST_REQUIRE(result.error.has_value());
    BOOST_TEST(result.error->hop == want.hop);
    BOOST_TEST(result.error->hops == 3u);
    BOOST_TEST(static_cast<int>(result.error->stage) == static_cast<int>(want.stage));
    BOOST_TEST(result.error->ec == want.ec, result.error->message());
    BOOST_TEST(!result.stream);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(open_chain_engine)

BOOST_AUTO_TEST_CASE(three_hops_open_pipelined_or_not) {
  for (const bool pipelined : {false, true}) {
    auto script = std::make_shared<Script>();
    script->incoming = replies(3);
    const auto result = open(script, pipelined);
    BOOST_TEST_REQUIRE(!result.error.has_value(),
                       (result.error ? result.error->message() : std::string()));
    BOOST_TEST(result.stream != nullptr);
    BOOST_TEST(result.path.size() == 3u);
    BOOST_TEST(script->writes == (pipelined ? 1u : 6u));
    BOOST_TEST(script->written.size() == 3u * 13u);  // greeting (3) and request (10) per hop
    for (const auto& hop : result.timing.hops) {
      BOOST_TEST(hop.tunnel.has_value());
      BOOST_TEST(hop.pipelined == pipelined);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_write_names_its_hop_and_stage) {
  const std::error_code down = asio::error::network_down;
  // Sequential: greeting and request of hop 1, then of hop 2, then of hop 3.
  const std::vector<Expected> sequential = {{1, Stage::auth, down}, {1, Stage::request, down},
                                            {2, Stage::auth, down}, {2, Stage::request, down},
                                            {3, Stage::auth, down}, {3, Stage::request, down}};
  for (std::size_t n = 1; n <= sequential.size(); ++n) {
    auto script = std::make_shared<Script>();
    script->incoming = replies(3);
    script->failing_write = n;
    check(open(script, false), sequential[n - 1], "sequential write " + std::to_string(n));
  }
  // Pipelined: one write carries every handshake; hop 1 is the first to miss it.
  auto script = std::make_shared<Script>();
  script->incoming = replies(3);
  script->failing_write = 1;
  check(open(script, true), {1, Stage::auth, down}, "pipelined batch write");
  // A hop's tunnel that breaks when the next hop's greeting goes out is that hop's failure.
  script = std::make_shared<Script>();
  script->incoming = replies(3);
  script->failing_write = 3;
  script->write_error = asio::error::broken_pipe;
  check(open(script, false), {1, Stage::relay, ChainErrc::ended_before_first_byte},
        "broken pipe at hop 2's greeting");
}

BOOST_AUTO_TEST_CASE(a_failed_read_names_its_hop_and_stage) {
  const std::error_code closed = ChainErrc::closed_during_handshake;
  const std::error_code early = ChainErrc::ended_before_first_byte;
  // EOF after this many reply bytes: before each hop's method reply, then before its reply.
  const std::vector<std::pair<std::size_t, Expected>> cases = {
      {0, {1, Stage::auth, closed}},     {2, {1, Stage::request, closed}},
      {12, {1, Stage::relay, early}},    {14, {2, Stage::request, closed}},
      {24, {2, Stage::relay, early}},    {26, {3, Stage::request, closed}},
      {30, {3, Stage::request, closed}},  // mid-reply
  };
  for (const bool pipelined : {false, true}) {
    for (const auto& [at, want] : cases) {
      auto script = std::make_shared<Script>();
      script->incoming = replies(3);
      script->eof_at = at;
      check(open(script, pipelined), want,
            (pipelined ? "pipelined" : "sequential") + std::string(", EOF after ") +
                std::to_string(at) + " bytes");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

awaitable<void> sleep_for(std::chrono::milliseconds d, bool* done) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(hc::nothrow);
  *done = true;
}

/// Spawns a probe that takes `takes`, waits for it up to `bound`; how long the wait took.
std::chrono::milliseconds probe_wait(std::chrono::milliseconds takes,
                                     std::chrono::milliseconds bound, bool* done) {
  asio::io_context io;
  hc::chain::ProbeSet probes(io.get_executor());
  probes.spawn(sleep_for(takes, done));
  const auto t0 = std::chrono::steady_clock::now();
  std::chrono::milliseconds took{0};
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await probes.wait(bound);
        took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - t0);
        io.stop();  // a slow probe is abandoned, not awaited
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  return took;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(probe_set)

BOOST_AUTO_TEST_CASE(a_prompt_probe_ends_the_wait_and_a_slow_one_is_bounded) {
  bool prompt_done = false;
  const auto prompt =
      probe_wait(std::chrono::milliseconds(5), std::chrono::seconds(3), &prompt_done);
  BOOST_TEST(prompt_done);
  BOOST_TEST(prompt.count() < 2000);
  bool slow_done = false;
  const auto slow = probe_wait(std::chrono::seconds(60), std::chrono::milliseconds(20), &slow_done);
  BOOST_TEST(!slow_done);
  BOOST_TEST(slow.count() >= 15);
  BOOST_TEST(slow.count() < 2000);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// open_chain_with_strategy over the three hops; each connection the engine makes is one of
/// `connections` in turn (an error code: that connect fails; else the script plays the hops).
struct StrategyRun {
  hc::chain::ChainResult result;
  std::size_t connects = 0;
  std::vector<std::string> first_targets;  ///< whom each connect was for
  std::vector<bool> alive;                 ///< each hop's health afterwards
};

StrategyRun run_strategy(hc::chain::Strategy strategy,
                         std::vector<std::variant<std::error_code, Bytes>> connections) {
  hc::test::ScriptedStrategy chains(strategy);
  asio::io_context& io = chains.io;
  hc::chain::Services& services = chains.services;
  hc::chain::Planner& planner = chains.planner;
  StrategyRun run;
  services.connector =
      [&](const hc::proto::HostPort& first) -> awaitable<hc::chain::FirstConnection> {
    run.first_targets.push_back(first.to_string());
    BOOST_REQUIRE(run.connects < connections.size());
    const auto& next = connections[run.connects++];
    if (const auto* refused = std::get_if<std::error_code>(&next)) {
      hc::chain::FirstConnection failed;
      failed.ec = *refused;
      return [](hc::chain::FirstConnection c) -> awaitable<hc::chain::FirstConnection> {
        co_return c;
      }(std::move(failed));
    }
    auto script = std::make_shared<Script>();
    script->incoming = std::get<Bytes>(next);
    return connect_scripted(script);
  };
  const hc::chain::Hops& hops = planner.hops();
  asio::co_spawn(io, hc::chain::open_chain_with_strategy(hops, {"198.51.100.7", 22}, services),
                 [&](std::exception_ptr e, hc::chain::ChainResult r) {
                   BOOST_REQUIRE(!e);
                   run.result = std::move(r);
                 });
  io.run_for(std::chrono::seconds(5));
  for (std::size_t i = 0; i < hops.size(); ++i) {
    run.alive.push_back(planner.alive(i, hc::chain::Planner::Clock::now()));
  }
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(strategy_retries)

BOOST_AUTO_TEST_CASE(dynamic_retries_without_the_hop_that_failed) {
  const std::error_code refused = asio::error::connection_refused;
  auto run = run_strategy(hc::chain::Strategy::dynamic, {refused, replies(2)});
  BOOST_TEST_REQUIRE(!run.result.error.has_value(),
                     (run.result.error ? run.result.error->message() : std::string()));
  BOOST_TEST(run.connects == 2u);
  BOOST_TEST(run.first_targets[0] == "192.0.2.1:1080");
  BOOST_TEST(run.first_targets[1] == "192.0.2.2:1080");  // hop 1 left out of the retry
  BOOST_TEST(run.result.path.size() == 2u);
  BOOST_TEST(!run.alive[0]);
  BOOST_TEST(run.alive[1]);
  BOOST_TEST(run.alive[2]);
}

BOOST_AUTO_TEST_CASE(strict_fails_at_once_and_names_the_hop) {
  const std::error_code refused = asio::error::connection_refused;
  auto run = run_strategy(hc::chain::Strategy::strict, {refused});
  BOOST_TEST_REQUIRE(run.result.error.has_value());
  BOOST_TEST(run.connects == 1u);
  BOOST_TEST(run.result.error->hop == 1u);
  BOOST_TEST(static_cast<int>(run.result.error->stage) == static_cast<int>(Stage::connect));
  BOOST_TEST(run.result.error->ec == refused);
}

BOOST_AUTO_TEST_CASE(dynamic_stops_after_its_attempts) {
  const std::error_code refused = asio::error::connection_refused;
  auto run = run_strategy(hc::chain::Strategy::dynamic, {refused, refused, refused});
  BOOST_TEST_REQUIRE(run.result.error.has_value());
  BOOST_TEST(run.connects == 3u);  // StrategyOptions::max_attempts
  BOOST_TEST(run.first_targets[2] == "192.0.2.3:1080");
}

BOOST_AUTO_TEST_SUITE_END()
