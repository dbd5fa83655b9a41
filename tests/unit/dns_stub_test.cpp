// The exec mode's stub resolver on a real event loop, over loopback UDP and TCP: fake addresses
// answered locally, other types (and everything under `chain`) asked of an upstream resolver as
// DNS over TCP through a chain (hop-less, or one SOCKS5 hop; both in this process), answers too
// big for UDP cut with TC, and every failure answered with SERVFAIL in bounded time.
#include "app/dns_stub.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/hop.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "proto/dns_message.hpp"
#include "proto/proxy_url.hpp"
#include "support/codec_driver.hpp"

namespace {

namespace dns = hc::proto::dns;
using hc::awaitable;
using hc::nothrow;
using hc::tcp;
using hc::test::Bytes;
using hc::test::concat;
using hc::test::hex;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

const asio::ip::address kLoopback = asio::ip::address_v4::loopback();

// A query for example.org, ID `id`, of `type` (two bytes, hex), with RD.
Bytes query(std::uint16_t id, const char* type) {
  return concat({Bytes{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)},
                 hex("01 00 00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65 03 6f 72 67 00"),
                 hex(type), hex("00 01")});
}

std::uint16_t rcode(const Bytes& reply) {
  return reply.size() >= 4 ? reply[3] & 0x0F : 0xFF;
}

/// One length-prefixed DNS message, or nullopt when the stream ends or fails first.
awaitable<std::optional<Bytes>> read_frame(tcp::socket& socket) {
  std::uint8_t head[2] = {};
  if (auto [ec, n] = co_await asio::async_read(socket, asio::buffer(head), nothrow); ec) {
    co_return std::nullopt;
  }
  Bytes message(static_cast<std::size_t>(head[0] << 8 | head[1]));
  if (auto [ec, n] = co_await asio::async_read(socket, asio::buffer(message), nothrow); ec) {
    co_return std::nullopt;
  }
  co_return message;
}

/// An upstream resolver over TCP: one framed query per connection, answered with the query
/// turned into a response with `answers` TXT records of 100 bytes each (0: NXDOMAIN), or not
/// answered at all when `silent`.
struct Upstream {
  tcp::acceptor acceptor;
  int answers = 1;
  bool silent = false;
  int accepted = 0;
  std::vector<Bytes> queries;

  explicit Upstream(asio::io_context& io) : acceptor(io, tcp::endpoint(kLoopback, 0)) {}
  hc::proto::HostPort where() const { return {"127.0.0.1", acceptor.local_endpoint().port()}; }

  Bytes reply_to(Bytes q) const {
    q[2] |= 0x80;
    q[7] = static_cast<std::uint8_t>(answers);
    q[3] = answers == 0 ? 0x83 : 0x80;
    for (int i = 0; i < answers; ++i) {
      q = concat({q, hex("c0 0c 00 10 00 01 00 00 00 3c 00 65 64"), Bytes(100, 't')});
    }
    return q;
  }

  awaitable<void> serve_one(tcp::socket socket) {
    const auto q = co_await read_frame(socket);
    if (!q) {
      co_return;
    }
    queries.push_back(*q);
    if (silent) {
      asio::steady_timer forever(socket.get_executor(), 1h);
      co_await forever.async_wait(nothrow);
      co_return;
    }
    co_await asio::async_write(socket, asio::buffer(*dns::frame(reply_to(*q))), nothrow);
  }

  awaitable<void> serve() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (ec) {
        co_return;
      }
      ++accepted;
      asio::co_spawn(acceptor.get_executor(), serve_one(std::move(socket)), asio::detached);
    }
  }
};

/// A SOCKS5 hop (no auth, IPv4 targets) that notes where it was asked to connect, then relays.
struct SocksHop {
  tcp::acceptor acceptor;
  std::vector<std::string> targets;

  explicit SocksHop(asio::io_context& io) : acceptor(io, tcp::endpoint(kLoopback, 0)) {}

  static awaitable<void> copy(tcp::socket& from, tcp::socket& to) {
    std::uint8_t buffer[4096];
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), nothrow);
      if (ec) {
        break;
      }
      if (auto [wec, m] = co_await asio::async_write(to, asio::buffer(buffer, n), nothrow); wec) {
        break;
      }
    }
    std::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }

  awaitable<void> serve_one(tcp::socket client) {
    using namespace asio::experimental::awaitable_operators;
    std::uint8_t greeting[3];
    std::uint8_t request[10];  // VER CMD RSV ATYP(1) ADDR(4) PORT(2)
    co_await asio::async_read(client, asio::buffer(greeting), nothrow);
    co_await asio::async_write(client, asio::buffer(hex("05 00")), nothrow);
    if (auto [ec, n] = co_await asio::async_read(client, asio::buffer(request), nothrow); ec) {
      co_return;
    }
    const tcp::endpoint target(
        asio::ip::address_v4({request[4], request[5], request[6], request[7]}),
        static_cast<std::uint16_t>(request[8] << 8 | request[9]));
    targets.push_back(target.address().to_string() + ":" + std::to_string(target.port()));
    tcp::socket next(client.get_executor());
    if (auto [ec] = co_await next.async_connect(target, nothrow); ec) {
      co_return;
    }
    co_await asio::async_write(client, asio::buffer(hex("05 00 00 01 00 00 00 00 00 00")), nothrow);
    co_await (copy(client, next) && copy(next, client));
  }

  awaitable<void> serve() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (ec) {
        co_return;
      }
      asio::co_spawn(acceptor.get_executor(), serve_one(std::move(socket)), asio::detached);
    }
  }

  hc::chain::Hops hops() const {
    hc::proto::HopSpec spec;
    const std::string url =
        "socks5://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, spec));
    return *hc::chain::compile_hops({spec}, "");
  }
};

struct Lab {
  asio::io_context io;
  hc::dns::Resolver resolver{io.get_executor(), {}};
  hc::chain::Services services{resolver, 2000ms};
  hc::capture::FakeAddresses pool;
  Upstream upstream{io};
  udp::endpoint udp_at;
  tcp::endpoint tcp_at;

  explicit Lab(hc::app::DnsStubOptions options = {}) {
    udp::socket u(io, udp::endpoint(kLoopback, 0));
    tcp::acceptor a(io, tcp::endpoint(kLoopback, 0));
    udp_at = u.local_endpoint();
    tcp_at = a.local_endpoint();
    options.upstream = upstream.where();
    auto stub =
        std::make_shared<hc::app::DnsStub>(std::move(u), std::move(a), pool, services, options);
    asio::co_spawn(
        io, [stub]() -> awaitable<void> { co_await stub->run(); }, asio::detached);
    asio::co_spawn(io, upstream.serve(), asio::detached);
  }

  /// Runs `client` on the loop, bounded in time; returns what it returned.
  template <class T>
  T run(awaitable<T> client) {
    T result{};
    bool done = false;
    asio::co_spawn(io, std::move(client), [&](std::exception_ptr e, T r) {
      BOOST_REQUIRE(!e);
      result = std::move(r);
      done = true;
      io.stop();
    });
    io.run_for(20s);
    BOOST_TEST_REQUIRE(done, "the client did not finish");
    io.restart();
    return result;
  }

  awaitable<Bytes> ask_udp(Bytes q, std::chrono::milliseconds wait = 5000ms) {
    using namespace asio::experimental::awaitable_operators;
    udp::socket client(io, udp::endpoint(kLoopback, 0));
    co_await client.async_send_to(asio::buffer(q), udp_at, nothrow);
    Bytes reply(65535);
    asio::steady_timer timer(io, wait);
    auto got =
        co_await (client.async_receive(asio::buffer(reply), nothrow) || timer.async_wait(nothrow));
    if (got.index() != 0 || std::get<0>(std::get<0>(got))) {
      co_return Bytes{};
    }
    reply.resize(std::get<1>(std::get<0>(got)));
    co_return reply;
  }

  /// Writes every query in one write, then reads one framed answer per query.
  awaitable<std::vector<Bytes>> ask_tcp(std::vector<Bytes> qs) {
    tcp::socket client(io);
    co_await client.async_connect(tcp_at, nothrow);
    Bytes all;
    for (const auto& q : qs) {
      all = concat({all, *dns::frame(q)});
    }
    co_await asio::async_write(client, asio::buffer(all), nothrow);
    std::vector<Bytes> replies;
    for (std::size_t i = 0; i < qs.size(); ++i) {
      auto reply = co_await read_frame(client);
      if (!reply) {
        break;
      }
      replies.push_back(std::move(*reply));
    }
    co_return replies;
  }
};

// The last 4 or 16 bytes of a one-record answer: its address.
Bytes address_of(const Bytes& reply, std::size_t size) {
  return reply.size() < size ? Bytes{} : Bytes(reply.end() - static_cast<long>(size), reply.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_stub)

BOOST_AUTO_TEST_CASE(fake_addresses_are_answered_locally_with_ttl_1) {
  Lab lab;
  const Bytes a = lab.run(lab.ask_udp(query(1, "00 01")));
  BOOST_TEST(rcode(a) == 0);
  BOOST_TEST(address_of(a, 4) == hex("c6 12 00 01"));
  BOOST_TEST(address_of(a, 10) == hex("00 00 00 01 00 04 c6 12 00 01"));  // TTL 1
  const Bytes aaaa = lab.run(lab.ask_udp(query(2, "00 1c")));
  BOOST_TEST(address_of(aaaa, 16) == hex("fd 00 68 63 00 00 00 00 00 00 00 00 00 00 00 01"));
  const auto over_tcp = lab.run(lab.ask_tcp({query(3, "00 01")}));
  BOOST_TEST_REQUIRE(over_tcp.size() == 1u);
  BOOST_TEST(address_of(over_tcp[0], 4) == hex("c6 12 00 01"));
  BOOST_TEST(*lab.pool.name_of(asio::ip::make_address("198.18.0.1"), {}) == "example.org");
  BOOST_TEST(lab.upstream.accepted == 0);
}

BOOST_AUTO_TEST_CASE(without_ipv6_capture_aaaa_has_no_data) {
  hc::app::DnsStubOptions options;
  options.fake_ipv6 = false;
  Lab lab(options);
  const Bytes aaaa = lab.run(lab.ask_udp(query(2, "00 1c")));
  BOOST_TEST(rcode(aaaa) == 0);
  BOOST_TEST(aaaa.at(7) == 0);  // ANCOUNT
  BOOST_TEST(lab.pool.size() == 0u);
}

BOOST_AUTO_TEST_CASE(other_types_go_to_the_upstream_resolver_and_back) {
  Lab lab;
  const Bytes mx = query(7, "00 0f");
  const Bytes reply = lab.run(lab.ask_udp(mx));
  BOOST_TEST_REQUIRE(lab.upstream.queries.size() == 1u);
  BOOST_TEST(lab.upstream.queries[0] == mx);  // as the client sent it
  BOOST_TEST(reply == lab.upstream.reply_to(mx));
  lab.upstream.answers = 0;
  const auto over_tcp = lab.run(lab.ask_tcp({query(8, "00 10")}));
  BOOST_TEST_REQUIRE(over_tcp.size() == 1u);
  BOOST_TEST(rcode(over_tcp[0]) == 3);  // the upstream's NXDOMAIN, relayed
}

BOOST_AUTO_TEST_CASE(upstream_queries_go_through_the_hops_of_the_chain) {
  Lab lab;
  SocksHop hop(lab.io);
  hc::chain::Planner planner(hop.hops(), {});
  lab.services.planner = &planner;
  asio::co_spawn(lab.io, hop.serve(), asio::detached);
  const Bytes mx = query(30, "00 0f");
  const auto replies = lab.run(lab.ask_tcp({mx, query(31, "00 01")}));
  BOOST_TEST_REQUIRE(replies.size() == 2u);
  BOOST_TEST(replies[0] == lab.upstream.reply_to(mx));
  BOOST_TEST(address_of(replies[1], 4) == hex("c6 12 00 01"));  // fake: no chain at all
  BOOST_TEST_REQUIRE(hop.targets.size() == 1u);
  BOOST_TEST(hop.targets[0] == lab.upstream.where().to_string());
  BOOST_TEST(lab.upstream.queries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(under_chain_every_query_goes_upstream) {
  hc::app::DnsStubOptions options;
  options.mode = hc::app::DnsMode::chain;
  Lab lab(options);
  const Bytes a = query(9, "00 01");
  BOOST_TEST(lab.run(lab.ask_udp(a)) == lab.upstream.reply_to(a));
  BOOST_TEST(lab.pool.size() == 0u);
}

BOOST_AUTO_TEST_CASE(answers_too_big_for_udp_are_cut_and_whole_over_tcp) {
  Lab lab;
  lab.upstream.answers = 8;  // over 800 bytes
  const Bytes txt = query(10, "00 10");
  const Bytes cut = lab.run(lab.ask_udp(txt));
  BOOST_TEST(cut.size() == txt.size());
  BOOST_TEST((cut.at(2) & 0x02) != 0);  // TC
  const auto whole = lab.run(lab.ask_tcp({txt}));
  BOOST_TEST_REQUIRE(whole.size() == 1u);
  BOOST_TEST(whole[0] == lab.upstream.reply_to(txt));
}

BOOST_AUTO_TEST_CASE(pipelined_tcp_queries_are_answered_in_turn) {
  Lab lab;
  const auto replies = lab.run(lab.ask_tcp({query(20, "00 01"), query(21, "00 0f")}));
  BOOST_TEST_REQUIRE(replies.size() == 2u);
  BOOST_TEST(replies[0].at(1) == 20);
  BOOST_TEST(replies[1] == lab.upstream.reply_to(query(21, "00 0f")));
}

BOOST_AUTO_TEST_CASE(an_unreachable_resolver_gives_servfail) {
  Lab lab;
  lab.upstream.acceptor.close();  // its port refuses connections now
  const Bytes reply = lab.run(lab.ask_udp(query(11, "00 0f")));
  BOOST_TEST(rcode(reply) == 2);
  BOOST_TEST(reply.at(1) == 11);
}

BOOST_AUTO_TEST_CASE(a_silent_resolver_gives_servfail_after_the_timeout) {
  hc::app::DnsStubOptions options;
  options.upstream_timeout = 300ms;
  Lab lab(options);
  lab.upstream.silent = true;
  const auto start = std::chrono::steady_clock::now();
  const Bytes reply = lab.run(lab.ask_udp(query(12, "00 0f")));
  BOOST_TEST(rcode(reply) == 2);
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 300ms));
}

BOOST_AUTO_TEST_CASE(queries_over_the_in_flight_cap_get_servfail_at_once) {
  hc::app::DnsStubOptions options;
  options.upstream_timeout = 10s;
  options.max_in_flight = 1;
  Lab lab(options);
  lab.upstream.silent = true;
  const Bytes reply = lab.run([&]() -> awaitable<Bytes> {
    udp::socket first(lab.io, udp::endpoint(kLoopback, 0));
    const Bytes q = query(13, "00 0f");
    co_await first.async_send_to(asio::buffer(q), lab.udp_at, nothrow);
    // Until the first query holds the one upstream slot (bounded: 5 s).
    for (int i = 0; i < 500 && lab.upstream.queries.empty(); ++i) {
      asio::steady_timer tick(lab.io, 10ms);
      co_await tick.async_wait(nothrow);
    }
    co_return co_await lab.ask_udp(query(14, "00 10"), 2000ms);
  }());
  BOOST_TEST(rcode(reply) == 2);
  BOOST_TEST(reply.at(1) == 14);
}

BOOST_AUTO_TEST_CASE(malformed_queries_get_formerr_and_responses_nothing) {
  Lab lab;
  const Bytes bad = concat({hex("00 05 01 00 00 01 00 00 00 00 00 00 c0 0c"), hex("00 01 00 01")});
  const Bytes formerr = lab.run(lab.ask_udp(bad));
  BOOST_TEST(rcode(formerr) == 1);
  BOOST_TEST(formerr.at(1) == 5);
  // A response is never answered: the next datagram the client gets answers its next query.
  const Bytes reply = lab.run([&]() -> awaitable<Bytes> {
    udp::socket client(lab.io, udp::endpoint(kLoopback, 0));
    Bytes response = query(15, "00 01");
    response[2] |= 0x80;
    co_await client.async_send_to(asio::buffer(response), lab.udp_at, nothrow);
    const Bytes q = query(16, "00 01");
    co_await client.async_send_to(asio::buffer(q), lab.udp_at, nothrow);
    Bytes got(512);
    auto [ec, n] = co_await client.async_receive(asio::buffer(got), nothrow);
    got.resize(n);
    co_return got;
  }());
  BOOST_TEST(reply.at(1) == 16);
}

BOOST_AUTO_TEST_CASE(the_resolv_conf_names_the_stub_only) {
  const std::string text = hc::app::namespace_resolv_conf(asio::ip::make_address("10.255.255.1"));
  BOOST_TEST(text.find("nameserver 10.255.255.1\n") != std::string::npos);
  BOOST_TEST(text.find("search") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_upstream_resolver_is_chosen_as_documented) {
  using hc::app::dns_upstream;
  const std::string conf = "# comment\nsearch lan\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n";
  BOOST_TEST(dns_upstream({"198.51.100.1:5353"}, conf, true)->to_string() == "198.51.100.1:5353");
  BOOST_TEST(dns_upstream({"2001:db8::1"}, conf, true)->to_string() == "[2001:db8::1]:53");
  BOOST_TEST(dns_upstream({"[2001:db8::1]:54"}, conf, true)->to_string() == "[2001:db8::1]:54");
  BOOST_TEST(dns_upstream({"127.0.0.1:5353"}, conf, true)->to_string() == "127.0.0.1:5353");
  BOOST_TEST(dns_upstream({}, conf, true)->to_string() == "192.0.2.53:53");
  BOOST_TEST(dns_upstream({}, conf, false)->to_string() == "127.0.0.53:53");
  const auto loopback_only = dns_upstream({}, "nameserver 127.0.0.53\n", true);
  BOOST_TEST_REQUIRE(!loopback_only);
  BOOST_TEST(loopback_only.error().find("--dns-server") != std::string::npos);
  BOOST_TEST(!dns_upstream({}, "", true));
  BOOST_TEST(dns_upstream({"name.example"}, conf, true).error().find("bad --dns-server") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
