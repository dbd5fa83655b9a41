/// run_tunnel's first-byte watch over scripted chains: a chain that ends before the target's
/// first byte, while nothing of the user's went up, is replaced by another one without its last
/// hop; once the user's bytes went up, the end is the target's answer and nothing is retried, so
/// the user's bytes are written once whatever the order of events.
#include "app/tunnel_session.hpp"

#include <chrono>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "support/chain_script.hpp"

namespace {

using hc::awaitable;
using hc::test::Bytes;
using hc::test::Script;

/// The user's side: sends `to_send` (if any), then stays quiet for `quiet` before its EOF, and
/// keeps what the tunnel delivered. It offers a readiness wait (RawIo, no descriptors), which is
/// what lets the first-byte watch wait on it and give up without losing a byte.
class LocalSide final : public hc::transport::Stream, private hc::transport::RawIo {
 public:
  LocalSide(const asio::any_io_executor& ex, std::string to_send, std::chrono::milliseconds quiet)
      : to_send_(std::move(to_send)), quiet_(ex, quiet), bottom_(ex) {}

  awaitable<hc::transport::IoResult> read_some(std::span<std::uint8_t> buffer) override {
    if (!to_send_.empty()) {
      const std::size_t n = std::min(buffer.size(), to_send_.size());
      std::copy_n(to_send_.begin(), n, buffer.begin());
      to_send_.erase(0, n);
      co_return hc::transport::IoResult{std::error_code{}, n};
    }
    co_await wait_readable();
    co_return hc::transport::IoResult{asio::error::eof, 0};
  }
  awaitable<hc::transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    received.append(data.begin(), data.end());
    co_return hc::transport::IoResult{std::error_code{}, data.size()};
  }
  awaitable<std::error_code> shutdown_send() override { co_return std::error_code{}; }
  void close() override {}
  hc::tcp::socket* bottom() override { return &bottom_; }
  hc::transport::RawIo* raw_io() override { return this; }

  std::string received;

 private:
  int read_fd() override { return -1; }
  int write_fd() override { return -1; }
  awaitable<std::error_code> wait_readable() override {
    if (to_send_.empty()) {
      co_await quiet_.async_wait(hc::nothrow);  // until the EOF is due (the timer stays expired)
    }
    co_return std::error_code{};
  }
  awaitable<std::error_code> wait_writable() override { co_return std::error_code{}; }
  void notify_readable(ReadyCallback ready) override {
    if (!to_send_.empty()) {
      asio::post(quiet_.get_executor(), [ready = std::move(ready)] { ready(std::error_code{}); });
      return;
    }
    quiet_.async_wait(std::move(ready));
  }

  std::string to_send_;
  asio::steady_timer quiet_;
  hc::tcp::socket bottom_;
};

struct TunnelRun {
  hc::app::TunnelOutcome outcome;
  std::vector<std::shared_ptr<Script>> chains;  ///< one per connection the engine made
  std::string delivered;                        ///< what reached the user
};

/// run_tunnel under `strategy` over the three scripted hops; connection i plays `far_sides[i]`.
TunnelRun tunnel(hc::chain::Strategy strategy, const std::vector<Bytes>& far_sides,
                 const std::string& user_sends) {
  hc::test::ScriptedStrategy chains(strategy);
  asio::io_context& io = chains.io;
  hc::chain::Services& services = chains.services;
  hc::chain::Planner& planner = chains.planner;
  TunnelRun run;
  services.connector = [&](const hc::proto::HostPort&) {
    BOOST_REQUIRE(run.chains.size() < far_sides.size());
    auto script = std::make_shared<Script>();
    script->incoming = far_sides[run.chains.size()];
    run.chains.push_back(script);
    return hc::test::connect_scripted(script);
  };
  LocalSide local(io.get_executor(), user_sends, std::chrono::milliseconds(200));
  // A named target: run_tunnel takes it by reference and uses it across attempts.
  const hc::proto::HostPort target{"198.51.100.7", 22};
  asio::co_spawn(io, hc::app::run_tunnel(local, planner.hops(), target, services),
                 [&](std::exception_ptr e, hc::app::TunnelOutcome o) {
                   BOOST_REQUIRE(!e);
                   run.outcome = std::move(o);
                 });
  io.run_for(std::chrono::seconds(5));
  run.delivered = local.received;
  return run;
}

Bytes then(Bytes replies, const std::string& payload) {
  replies.insert(replies.end(), payload.begin(), payload.end());
  return replies;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tunnel_first_byte_watch)

BOOST_AUTO_TEST_CASE(an_early_end_with_nothing_sent_moves_to_other_hops) {
  // Chain 1 (hops 1-3) is granted and ends at once; chain 2 leaves hop 3 out and answers.
  const auto run =
      tunnel(hc::chain::Strategy::dynamic,
             {hc::test::replies(3), then(hc::test::replies(2), "SSH-2.0-far\r\n")}, "");
  BOOST_TEST(run.chains.size() == 2u);
  BOOST_TEST(run.outcome.relayed);
  BOOST_TEST(!run.outcome.chain.error.has_value());
  BOOST_TEST(run.outcome.chain.path.size() == 2u);
  BOOST_TEST(run.delivered == "SSH-2.0-far\r\n");
}

BOOST_AUTO_TEST_CASE(the_users_bytes_go_out_once_whichever_chain_carries_them) {
  // Chain 1 ends at once; the user's request is read either before that end is seen (then it
  // went up chain 1, and the end is the target's answer: no other chain) or after it (then it is
  // kept for chain 2 and written there only).
  const auto run = tunnel(hc::chain::Strategy::dynamic,
                          {hc::test::replies(3), then(hc::test::replies(2), "HTTP/1.1 200 OK\r\n")},
                          "POST /x\r\n");
  std::size_t copies = 0;
  for (const auto& chain : run.chains) {
    const std::string written(chain->written.begin(), chain->written.end());
    copies += written.find("POST /x") != std::string::npos ? 1 : 0;
  }
  BOOST_TEST(copies == 1u);
  const bool went_up_chain_1 = run.chains.size() == 1;
  BOOST_TEST(run.delivered == (went_up_chain_1 ? "" : "HTTP/1.1 200 OK\r\n"));
}

BOOST_AUTO_TEST_CASE(strict_never_moves) {
  const auto run = tunnel(hc::chain::Strategy::strict,
                          {hc::test::replies(3), then(hc::test::replies(2), "x")}, "");
  BOOST_TEST(run.chains.size() == 1u);
  BOOST_TEST(run.outcome.chain.error.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
