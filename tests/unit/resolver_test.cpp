/// dns::Resolver against a fake DNS server on 127.0.0.1 in the same io_context (UDP, plus TCP for
/// truncated answers). Nothing here needs the machine's resolver or a network.
#include "dns/resolver.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include <ares.h>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <boost/test/unit_test.hpp>

namespace {

using hc::dns::Resolver;
using Addresses = std::vector<asio::ip::address>;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint8_t kNoError = 0;
constexpr std::uint8_t kNxDomain = 3;

struct Question {
  std::uint16_t id = 0;
  bool recursion_desired = false;
  std::string name;  ///< lower case, no trailing dot
  std::uint16_t type = 0;
  std::size_t end = 0;  ///< offset just past the question
};

/// RFC 1035 §4.1: header, then QNAME as uncompressed labels, QTYPE, QCLASS.
std::optional<Question> parse_query(std::span<const std::uint8_t> q) {
  if (q.size() < 12 || q[4] != 0 || q[5] != 1) {
    return std::nullopt;
  }
  Question out;
  out.id = static_cast<std::uint16_t>(q[0] << 8 | q[1]);
  out.recursion_desired = (q[2] & 0x01) != 0;
  std::size_t pos = 12;
  while (true) {
    if (pos >= q.size()) {
      return std::nullopt;
    }
    const std::size_t len = q[pos++];
    if (len == 0) {
      break;
    }
    if ((len & 0xC0) != 0 || pos + len > q.size()) {
      return std::nullopt;
    }
    if (!out.name.empty()) {
      out.name += '.';
    }
    for (std::size_t i = 0; i < len; ++i) {
      out.name += static_cast<char>(std::tolower(q[pos + i]));
    }
    pos += len;
  }
  if (pos + 4 > q.size()) {
    return std::nullopt;
  }
  out.type = static_cast<std::uint16_t>(q[pos] << 8 | q[pos + 1]);
  out.end = pos + 4;
  return out;
}

struct Answer {
  std::uint8_t rcode = kNoError;
  bool truncated = false;
  std::vector<asio::ip::address> records;  ///< of the asked type only
};

Bytes encode_reply(std::span<const std::uint8_t> query, const Question& question,
                   const Answer& answer) {
  Bytes out;
  const auto put16 = [&out](std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  };
  put16(question.id);
  // QR, AA, TC, RD echoed; RA; RCODE.
  out.push_back(static_cast<std::uint8_t>(0x84 | (answer.truncated ? 0x02 : 0) |
                                          (question.recursion_desired ? 0x01 : 0)));
  out.push_back(static_cast<std::uint8_t>(0x80 | answer.rcode));
  put16(1);
  put16(answer.records.size());
  put16(0);
  put16(0);
  out.insert(out.end(), query.begin() + 12, query.begin() + static_cast<long>(question.end));
  for (const asio::ip::address& address : answer.records) {
    out.insert(out.end(), {0xC0, 0x0C});  // pointer to the question's name
    put16(address.is_v4() ? kTypeA : kTypeAaaa);
    put16(1);                              // class IN
    out.insert(out.end(), {0, 0, 0, 60});  // TTL
    if (address.is_v4()) {
      const auto bytes = address.to_v4().to_bytes();
      put16(bytes.size());
      out.insert(out.end(), bytes.begin(), bytes.end());
    } else {
      const auto bytes = address.to_v6().to_bytes();
      put16(bytes.size());
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
  }
  return out;
}

/// The fake zone. std::nullopt = drop the query (a server that never answers).
std::optional<Answer> lookup(const Question& q, bool over_tcp) {
  const bool a = q.type == kTypeA;
  const bool aaaa = q.type == kTypeAaaa;
  if (q.name == "blackhole.test") {
    return std::nullopt;
  }
  if (q.name == "hop-a.test") {
    if (a) {
      return Answer{kNoError, false, {asio::ip::make_address("127.0.0.2")}};
    }
    if (aaaa) {
      return Answer{kNoError, false, {asio::ip::make_address("::1")}};
    }
    return Answer{};
  }
  if (q.name == "v4only.test") {
    return a ? Answer{kNoError, false, {asio::ip::make_address("127.0.0.3")}} : Answer{};
  }
  if (q.name == "tcp.test") {
    if (!over_tcp) {
      return Answer{kNoError, true, {}};  // TC: ask again over TCP
    }
    return a ? Answer{kNoError, false, {asio::ip::make_address("127.0.0.4")}} : Answer{};
  }
  return Answer{kNxDomain, false, {}};  // also names with a search domain appended
}

/// UDP and TCP on the same 127.0.0.1 port, as c-ares expects of one server.
struct FakeDns {
  explicit FakeDns(asio::io_context& io) : udp(io), tcp(io) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      udp = asio::ip::udp::socket(io, {asio::ip::make_address("127.0.0.1"), 0});
      std::error_code ec;
      tcp = asio::ip::tcp::acceptor(io);
      tcp.open(asio::ip::tcp::v4());
      tcp.bind({asio::ip::make_address("127.0.0.1"), udp.local_endpoint().port()}, ec);
      if (!ec) {
        tcp.listen();
        return;
      }
    }
    throw std::runtime_error("no free port pair for the fake DNS server");
  }
  std::string server() const { return "127.0.0.1:" + std::to_string(udp.local_endpoint().port()); }

  asio::ip::udp::socket udp;
  asio::ip::tcp::acceptor tcp;
  int udp_queries = 0;
  int tcp_queries = 0;
  int dropped = 0;
};

asio::awaitable<void> serve_udp(FakeDns* dns) {
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  std::array<std::uint8_t, 512> buf{};
  asio::ip::udp::endpoint from;
  while (true) {
    auto [ec, n] = co_await dns->udp.async_receive_from(asio::buffer(buf), from, token);
    if (ec) {
      co_return;
    }
    const std::span<const std::uint8_t> query(buf.data(), n);
    const std::optional<Question> question = parse_query(query);
    if (!question) {
      continue;
    }
    ++dns->udp_queries;
    const std::optional<Answer> answer = lookup(*question, false);
    if (!answer) {
      ++dns->dropped;
      continue;
    }
    const Bytes reply = encode_reply(query, *question, *answer);
    co_await dns->udp.async_send_to(asio::buffer(reply), from, token);
  }
}

// RFC 1035 §4.2.2: each message is preceded by a two-byte length.
asio::awaitable<void> serve_tcp(FakeDns* dns) {
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  while (true) {
    auto [accept_ec, conn] = co_await dns->tcp.async_accept(token);
    if (accept_ec) {
      co_return;
    }
    while (true) {
      std::array<std::uint8_t, 2> len{};
      auto [ec, n] = co_await asio::async_read(conn, asio::buffer(len), token);
      if (ec) {
        break;
      }
      Bytes query(static_cast<std::size_t>(len[0] << 8 | len[1]));
      std::tie(ec, n) = co_await asio::async_read(conn, asio::buffer(query), token);
      const std::optional<Question> question = parse_query(query);
      if (ec || !question) {
        break;
      }
      ++dns->tcp_queries;
      const std::optional<Answer> answer = lookup(*question, true);
      if (!answer) {
        continue;
      }
      Bytes reply = encode_reply(query, *question, *answer);
      reply.insert(reply.begin(), {static_cast<std::uint8_t>(reply.size() >> 8),
                                   static_cast<std::uint8_t>(reply.size())});
      std::tie(ec, n) = co_await asio::async_write(conn, asio::buffer(reply), token);
      if (ec) {
        break;
      }
    }
  }
}

void rethrow(std::exception_ptr e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

struct Outcome {
  bool done = false;
  std::error_code ec;
  Addresses addresses;
  Clock::duration elapsed{};
};

asio::awaitable<void> resolve_into(Resolver* resolver, std::string host, Outcome* out) {
  const Clock::time_point start = Clock::now();
  std::tie(out->ec, out->addresses) = co_await resolver->resolve(std::move(host));
  out->elapsed = Clock::now() - start;
  out->done = true;
}

asio::awaitable<void> destroy_after(std::unique_ptr<Resolver>* resolver,
                                    std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
  resolver->reset();
}

/// An io_context with the fake server running; every test runs it for a bounded time only.
struct Lab {
  Lab() {
    asio::co_spawn(io, serve_udp(&dns), rethrow);
    asio::co_spawn(io, serve_tcp(&dns), rethrow);
  }

  Resolver::Options options(std::chrono::milliseconds timeout = 500ms, int tries = 2) const {
    return {{dns.server()}, timeout, tries};
  }

  /// Runs the io_context until every outcome is done or the limit passes.
  void run_until_done(std::initializer_list<const Outcome*> outcomes,
                      std::chrono::milliseconds limit = 5s) {
    const Clock::time_point deadline = Clock::now() + limit;
    const auto all_done = [&outcomes] {
      for (const Outcome* o : outcomes) {
        if (!o->done) {
          return false;
        }
      }
      return true;
    };
    while (!all_done() && Clock::now() < deadline && !io.stopped()) {
      io.run_one_until(deadline);
    }
  }

  Outcome resolve(Resolver& resolver, std::string host) {
    Outcome out;
    asio::co_spawn(io, resolve_into(&resolver, std::move(host), &out), rethrow);
    run_until_done({&out});
    return out;
  }

  asio::io_context io;
  FakeDns dns{io};
};

Addresses addresses(std::initializer_list<const char*> texts) {
  Addresses out;
  for (const char* text : texts) {
    out.push_back(asio::ip::make_address(text));
  }
  return out;
}

std::error_code dns_error(int status) {
  return {status, hc::dns::dns_category()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_resolver)

BOOST_AUTO_TEST_CASE(parses_server_values) {
  using hc::dns::parse_dns_server;
  BOOST_TEST(parse_dns_server("192.0.2.1").value_or("-") == "192.0.2.1:53");
  BOOST_TEST(parse_dns_server("127.0.0.1:5353").value_or("-") == "127.0.0.1:5353");
  BOOST_TEST(parse_dns_server("::1").value_or("-") == "[::1]:53");
  BOOST_TEST(parse_dns_server("[::1]").value_or("-") == "[::1]:53");
  BOOST_TEST(parse_dns_server("[2001:db8::1]:5353").value_or("-") == "[2001:db8::1]:5353");
  for (const char* bad :
       {"", "dns.example", "dns.example:53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
        "1.2.3.4:53x", "1.2.3.4:+53", "[1.2.3.4]:53", "[::1", "[::1]53", "[::1]:", "::1]:53",
        "fe80::1%lo", "1.2.3.4:53,5.6.7.8", "1.2.3"}) {
    BOOST_TEST_CONTEXT("value '" << bad << "'") {
      BOOST_TEST(!parse_dns_server(bad).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_bad_server_values) {
  asio::io_context io;
  for (const char* bad : {"dns.example", "1.2.3.4:0", ""}) {
    BOOST_TEST_CONTEXT("value '" << bad << "'") {
      try {
        Resolver resolver(io.get_executor(), {{bad}, 1s, 1});
        BOOST_ERROR("no exception");
      } catch (const std::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("bad --dns-server value") != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(error_category) {
  const std::error_code nx = dns_error(ARES_ENOTFOUND);
  BOOST_TEST(nx.category().name() == std::string("dns"));
  BOOST_TEST(nx.message() == "Domain name not found");
  BOOST_TEST((dns_error(ARES_ETIMEOUT) == std::errc::timed_out));
  BOOST_TEST((dns_error(ARES_EDESTRUCTION) == std::errc::operation_canceled));
  BOOST_TEST((dns_error(ARES_ECANCELLED) == std::errc::operation_canceled));
}

BOOST_AUTO_TEST_CASE(ip_literals_skip_the_query) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  for (const char* literal : {"192.0.2.7", "2001:db8::1", "::ffff:10.0.0.1"}) {
    BOOST_TEST_CONTEXT("literal " << literal) {
      const Outcome out = lab.resolve(resolver, literal);
      BOOST_TEST(out.done);
      BOOST_TEST(!out.ec);
      BOOST_TEST(out.addresses == addresses({literal}));
    }
  }
  BOOST_TEST(lab.dns.udp_queries == 0);
}

BOOST_AUTO_TEST_CASE(empty_name_is_an_error) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(resolver, "");
  BOOST_TEST(out.done);
  BOOST_TEST(out.ec == dns_error(ARES_EBADNAME));
}

BOOST_AUTO_TEST_CASE(returns_ipv4_and_ipv6) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(resolver, "hop-a.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!out.ec);
  BOOST_TEST(out.addresses.size() == 2u);
  for (const asio::ip::address& expected : addresses({"127.0.0.2", "::1"})) {
    BOOST_TEST(
        (std::find(out.addresses.begin(), out.addresses.end(), expected) != out.addresses.end()),
        expected);
  }
  // Lookups reuse the channel: a second one works the same.
  const Outcome again = lab.resolve(resolver, "HOP-A.test");
  BOOST_TEST(!again.ec);
  BOOST_TEST(again.addresses.size() == 2u);
}

BOOST_AUTO_TEST_CASE(ipv4_only_name) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(resolver, "v4only.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!out.ec);
  BOOST_TEST(out.addresses == addresses({"127.0.0.3"}));
}

BOOST_AUTO_TEST_CASE(nxdomain) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(resolver, "nx.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(out.ec == dns_error(ARES_ENOTFOUND));
  BOOST_TEST(out.ec.message() == "Domain name not found");
  BOOST_TEST(out.addresses.empty());
}

BOOST_AUTO_TEST_CASE(truncated_answer_retried_over_tcp) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(resolver, "tcp.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!out.ec);
  BOOST_TEST(out.addresses == addresses({"127.0.0.4"}));
  BOOST_TEST(lab.dns.tcp_queries >= 2);  // A and AAAA
}

BOOST_AUTO_TEST_CASE(concurrent_lookups) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options());
  Outcome a;
  Outcome nx;
  Outcome v4;
  Outcome literal;
  asio::co_spawn(lab.io, resolve_into(&resolver, "hop-a.test", &a), rethrow);
  asio::co_spawn(lab.io, resolve_into(&resolver, "nx.test", &nx), rethrow);
  asio::co_spawn(lab.io, resolve_into(&resolver, "v4only.test", &v4), rethrow);
  asio::co_spawn(lab.io, resolve_into(&resolver, "127.0.0.9", &literal), rethrow);
  lab.run_until_done({&a, &nx, &v4, &literal});
  BOOST_TEST_REQUIRE((a.done && nx.done && v4.done && literal.done));
  BOOST_TEST(a.addresses.size() == 2u);
  BOOST_TEST(nx.ec == dns_error(ARES_ENOTFOUND));
  BOOST_TEST(v4.addresses == addresses({"127.0.0.3"}));
  BOOST_TEST(literal.addresses == addresses({"127.0.0.9"}));
}

// The timer path: c-ares only retries if it is called back when ares_timeout() says so.
BOOST_AUTO_TEST_CASE(unanswered_query_times_out) {
  Lab lab;
  Resolver resolver(lab.io.get_executor(), lab.options(200ms, 2));
  const Outcome out = lab.resolve(resolver, "blackhole.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(out.ec == dns_error(ARES_ETIMEOUT));
  BOOST_TEST((out.ec == std::errc::timed_out));
  BOOST_TEST(out.addresses.empty());
  BOOST_TEST(lab.dns.dropped >= 4);  // A and AAAA, two tries each
  // 200 ms, then 400 ms for the second round.
  BOOST_TEST(out.elapsed >= 500ms);
  BOOST_TEST(out.elapsed < 6s);
}

BOOST_AUTO_TEST_CASE(fails_over_to_the_next_server) {
  Lab lab;
  // Bound but never read: queries to it vanish.
  asio::ip::udp::socket silent(lab.io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string silent_server = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  Resolver resolver(lab.io.get_executor(), {{silent_server, lab.dns.server()}, 200ms, 2});
  const Outcome out = lab.resolve(resolver, "hop-a.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!out.ec);
  BOOST_TEST(out.addresses.size() == 2u);
  BOOST_TEST(out.elapsed < 5s);
}

// c-ares 1.18.1 sees the ICMP error only on its next send on that socket, so a query already sent
// there still waits out its timeout; what matters is that the lookup then succeeds.
BOOST_AUTO_TEST_CASE(refused_server_is_skipped) {
  Lab lab;
  std::uint16_t closed_port = 0;
  {
    asio::ip::udp::socket probe(lab.io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  Resolver resolver(lab.io.get_executor(),
                    {{"127.0.0.1:" + std::to_string(closed_port), lab.dns.server()}, 300ms, 1});
  const Outcome out = lab.resolve(resolver, "v4only.test");
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!out.ec);
  BOOST_TEST(out.addresses == addresses({"127.0.0.3"}));
  BOOST_TEST(out.elapsed < 5s);
}

BOOST_AUTO_TEST_CASE(destroying_the_resolver_completes_pending_lookups) {
  Lab lab;
  auto resolver = std::make_unique<Resolver>(lab.io.get_executor(), lab.options(1s, 2));
  Outcome out;
  asio::co_spawn(lab.io, resolve_into(resolver.get(), "blackhole.test", &out), rethrow);
  asio::co_spawn(lab.io, destroy_after(&resolver, 100ms), rethrow);
  lab.run_until_done({&out}, 3s);
  BOOST_TEST_REQUIRE(out.done);
  BOOST_TEST(!resolver);
  BOOST_TEST(out.ec == dns_error(ARES_EDESTRUCTION));
  BOOST_TEST((out.ec == std::errc::operation_canceled));
  BOOST_TEST(out.elapsed < 3s);
  // Aborted socket waits and the timer's handler still run; they must find the state gone.
  lab.io.run_for(300ms);
}

BOOST_AUTO_TEST_CASE(destroying_an_idle_resolver) {
  Lab lab;
  auto resolver = std::make_unique<Resolver>(lab.io.get_executor(), lab.options());
  const Outcome out = lab.resolve(*resolver, "hop-a.test");
  BOOST_TEST(!out.ec);
  resolver.reset();
  lab.io.run_for(100ms);
}

BOOST_AUTO_TEST_SUITE_END()
