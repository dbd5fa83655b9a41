// udp::Association against fake SOCKS5 hops in the same io_context (loopback only): the relay
// address when BND.ADDR is 0.0.0.0 (hop 1: the address we connected to; later hops: the host in
// the hop's URL), the DST we announce, the nested headers on the wire, reply checks (wrong
// sender, wrong relay, FRAG), the size limit, refusals naming the hop, a control connection that
// closes, and the direct (no hop) path. Every test runs the io_context for a bounded time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "dns/resolver.hpp"
#include "proto/socks5_address.hpp"
#include "proto/socks5_udp.hpp"
#include "support/codec_driver.hpp"
#include "transport/gss_krb5.hpp"
#include "udp/association.hpp"

namespace socks5 = hc::proto::socks5;
using hc::awaitable;
using hc::nothrow;
using hc::tcp;
using hc::proto::HopSpec;
using hc::proto::HostPort;
using hc::test::Bytes;
using hc::test::bytes;
using hc::test::concat;
using hc::udp::Association;
using hc::udp::SendStatus;
using udp_socket = asio::ip::udp::socket;
using udp_endpoint = asio::ip::udp::endpoint;

namespace {

using namespace std::chrono_literals;

const auto kLoopback = asio::ip::make_address("127.0.0.1");

/// A SOCKS5 server that answers UDP ASSOCIATE with a chosen reply and CONNECT with a real tunnel
/// (so it can be hop 1 of a two-hop chain). Its "relay" is a UDP socket the test reads itself.
struct FakeHop {
  explicit FakeHop(asio::io_context& io)
      : acceptor(io, tcp::endpoint(kLoopback, 0)), relay(io, udp_endpoint(kLoopback, 0)) {}
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::uint16_t relay_port() const { return relay.local_endpoint().port(); }
  std::string url(const std::string& scheme = "socks5", const std::string& host = "127.0.0.1") {
    return scheme + "://" + host + ":" + std::to_string(port());
  }

  tcp::acceptor acceptor;
  udp_socket relay;
  std::string bnd_host = "0.0.0.0";       // BND.ADDR of the UDP ASSOCIATE reply
  std::optional<std::uint16_t> bnd_port;  // default: the relay socket's port
  std::uint8_t rep = 0;
  bool close_on_associate = false;                     // hang up instead of answering (ssh -D does)
  std::optional<HostPort> dst;                         // DST of the last UDP ASSOCIATE
  std::vector<std::unique_ptr<tcp::socket>> controls;  // held open, as a server would
};

awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
  std::array<std::uint8_t, 4096> buf{};
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), nothrow);
    if (ec) {
      co_return;
    }
    auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), nothrow);
    if (wec) {
      co_return;
    }
  }
}

awaitable<HostPort> read_address(tcp::socket& s) {
  Bytes in(1);
  co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
  for (;;) {
    const auto d = socks5::decode_address(in);
    if (d.ec) {
      throw std::system_error(d.ec);
    }
    if (d.consumed) {
      co_return d.address;
    }
    const std::size_t have = in.size();
    in.resize(d.needed);
    co_await asio::async_read(s, asio::buffer(in.data() + have, in.size() - have),
                              asio::use_awaitable);
  }
}

awaitable<void> serve_client(FakeHop* hop, std::unique_ptr<tcp::socket> s) {
  using namespace asio::experimental::awaitable_operators;
  Bytes head(2);
  co_await asio::async_read(*s, asio::buffer(head), asio::use_awaitable);
  Bytes methods(head[1]);
  co_await asio::async_read(*s, asio::buffer(methods), asio::use_awaitable);
  const Bytes no_auth = {0x05, 0x00};
  co_await asio::async_write(*s, asio::buffer(no_auth), asio::use_awaitable);
  Bytes request(3);
  co_await asio::async_read(*s, asio::buffer(request), asio::use_awaitable);
  HostPort target = co_await read_address(*s);
  if (request[1] == 0x01) {
    tcp::socket out(s->get_executor());
    const auto address =
        target.host == "localhost" ? kLoopback : asio::ip::make_address(target.host);
    const tcp::endpoint to(address, target.port);
    co_await out.async_connect(to, asio::use_awaitable);
    const Bytes ok = {0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    co_await asio::async_write(*s, asio::buffer(ok), asio::use_awaitable);
    co_await (pipe(*s, out) || pipe(out, *s));
    co_return;
  }
  hop->dst = target;
  if (hop->close_on_associate) {
    co_return;
  }
  Bytes reply = {0x05, hop->rep, 0x00};
  BOOST_REQUIRE(
      !socks5::encode_address({hop->bnd_host, hop->bnd_port.value_or(hop->relay_port())}, reply));
  co_await asio::async_write(*s, asio::buffer(reply), asio::use_awaitable);
  if (hop->rep == 0) {
    hop->controls.push_back(std::move(s));
  }
}

void ignore_end(std::exception_ptr) {}

awaitable<void> serve(FakeHop* hop) {
  for (;;) {
    auto [ec, s] = co_await hop->acceptor.async_accept(nothrow);
    if (ec) {
      co_return;
    }
    asio::co_spawn(hop->acceptor.get_executor(),
                   serve_client(hop, std::make_unique<tcp::socket>(std::move(s))), ignore_end);
  }
}

HopSpec hop_spec(const std::string& url) {
  HopSpec h;
  BOOST_REQUIRE(!hc::proto::parse_proxy_url(url, h));
  return h;
}

hc::chain::Hops compiled(const std::vector<HopSpec>& specs) {
  auto hops = hc::chain::compile_hops(specs, "");
  BOOST_REQUIRE(hops.has_value());
  return *hops;
}

struct Lab {
  asio::io_context io;
  hc::dns::Resolver resolver{io.get_executor(), {}};
  hc::chain::Services services{resolver, std::chrono::milliseconds(3000)};

  void start(FakeHop& hop) { asio::co_spawn(io, serve(&hop), ignore_end); }

  /// Runs `body` to completion, within 10 s.
  void run(awaitable<void> body) {
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
      failure = e;
      done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io.run_one_until(deadline);
    }
    BOOST_REQUIRE_MESSAGE(done, "the test did not finish within 10 s");
    if (failure) {
      std::rethrow_exception(failure);
    }
  }
};

struct Datagram {
  Bytes bytes;
  udp_endpoint from;
};

awaitable<Datagram> receive_at(udp_socket& s) {
  Datagram d;
  d.bytes.resize(65536);
  const std::size_t n =
      co_await s.async_receive_from(asio::buffer(d.bytes), d.from, asio::use_awaitable);
  d.bytes.resize(n);
  co_return d;
}

Bytes header(const HostPort& a) {
  Bytes out;
  BOOST_REQUIRE(!socks5::encode_udp_header(a, out));
  return out;
}

std::string text(std::span<const std::uint8_t> s) {
  return std::string(s.begin(), s.end());
}

// --- bodies -------------------------------------------------------------------------------------

awaitable<void> one_hop(Lab* lab, FakeHop* a) {
  std::vector<HopSpec> hops = {hop_spec(a->url())};
  auto opened = co_await Association::open(compiled(hops), lab->services);
  BOOST_REQUIRE(!opened.error);
  Association& as = *opened.association;
  // BND.ADDR 0.0.0.0: the relay is the address we connected to.
  BOOST_TEST(as.describe() == "relay 127.0.0.1:" + std::to_string(a->relay_port()));
  // Hop 1 is told our real source, IP and port.
  BOOST_REQUIRE(a->dst.has_value());
  BOOST_TEST(a->dst->host == "127.0.0.1");
  BOOST_TEST(a->dst->port != 0);

  const HostPort where{"192.0.2.7", 53};
  const auto target = co_await as.prepare(where);
  BOOST_REQUIRE(!target.ec);
  BOOST_TEST(as.overhead(target) == 10u);
  auto sent = co_await as.send(target, bytes("hello"));
  BOOST_TEST((sent.status == SendStatus::sent));
  Datagram d = co_await receive_at(a->relay);
  BOOST_TEST(d.bytes == concat({header({"192.0.2.7", 53}), bytes("hello")}));
  BOOST_TEST(d.from.port() == a->dst->port);

  // A reply from the relay, for the target.
  const udp_endpoint back = d.from;
  const Bytes reply = concat({header(where), bytes("world")});
  co_await a->relay.async_send_to(asio::buffer(reply), back, asio::use_awaitable);
  std::vector<std::uint8_t> buffer(65536);
  auto r = co_await as.receive(buffer);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.origin.to_string() == "192.0.2.7:53");
  BOOST_TEST(text(r.payload) == "world");

  // The same bytes from another socket: not the relay.
  udp_socket stranger(a->relay.get_executor(), udp_endpoint(kLoopback, 0));
  const Bytes forged = concat({header(where), bytes("forged")});
  co_await stranger.async_send_to(asio::buffer(forged), back, asio::use_awaitable);
  r = co_await as.receive(buffer);
  BOOST_TEST(r.wrong_source);
  BOOST_TEST(!r.ok());

  // A fragment from the relay.
  Bytes fragment = concat({header({"192.0.2.7", 53}), bytes("part")});
  fragment[2] = 1;
  co_await a->relay.async_send_to(asio::buffer(fragment), back, asio::use_awaitable);
  r = co_await as.receive(buffer);
  BOOST_TEST((r.drop == socks5::UdpDrop::fragmented));

  // The size limit: 65507 bytes over IPv4, headers included.
  sent = co_await as.send(target, Bytes(65497, 0x5A));
  BOOST_TEST((sent.status == SendStatus::sent));
  BOOST_TEST(sent.size == 65507u);
  d = co_await receive_at(a->relay);
  BOOST_TEST(d.bytes.size() == 65507u);
  sent = co_await as.send(target, Bytes(65498, 0x5A));
  BOOST_TEST((sent.status == SendStatus::too_large));
  BOOST_TEST(sent.size == 65508u);

  // The hop ends the association: wait_closed returns.
  a->controls.clear();
  co_await as.wait_closed();
}

awaitable<void> two_hops(Lab* lab, FakeHop* a, FakeHop* b, std::string first_url,
                         std::string second_url, std::string expect_r2) {
  std::vector<HopSpec> hops = {hop_spec(first_url), hop_spec(second_url)};
  auto opened = co_await Association::open(compiled(hops), lab->services);
  BOOST_REQUIRE(!opened.error);
  Association& as = *opened.association;
  BOOST_TEST(as.describe() ==
             "relay 127.0.0.1:" + std::to_string(a->relay_port()) + ", then " + expect_r2);
  // Later hops cannot know our source: DST 0.0.0.0:0 (RFC 1928 §6).
  BOOST_REQUIRE(b->dst.has_value());
  BOOST_TEST(b->dst->to_string() == "0.0.0.0:0");

  const HostPort where{"target.example", 7};
  const auto target = co_await as.prepare(where);
  BOOST_REQUIRE(!target.ec);
  BOOST_TEST(target.header.host == "target.example");  // socks5h last hop: the name goes on
  co_await as.send(target, bytes("x"));
  const Datagram d = co_await receive_at(a->relay);
  const HostPort r2{expect_r2.substr(0, expect_r2.rfind(':')), b->relay_port()};
  BOOST_TEST(d.bytes == concat({header(r2), header({"target.example", 7}), bytes("x")}));

  // Replies: H(R_2) must name R_2 exactly.
  std::vector<std::uint8_t> buffer(65536);
  const HostPort origin{"192.0.2.9", 7};
  const Bytes reply = concat({header(r2), header(origin), bytes("back")});
  co_await a->relay.async_send_to(asio::buffer(reply), d.from, asio::use_awaitable);
  auto r = co_await as.receive(buffer);
  BOOST_TEST(r.ok());
  BOOST_TEST(text(r.payload) == "back");
  BOOST_TEST(r.origin.to_string() == "192.0.2.9:7");
  const HostPort wrong_r2{r2.host, static_cast<std::uint16_t>(r2.port + 1)};
  const Bytes forged = concat({header(wrong_r2), header(origin), bytes("forged")});
  co_await a->relay.async_send_to(asio::buffer(forged), d.from, asio::use_awaitable);
  r = co_await as.receive(buffer);
  BOOST_TEST((r.drop == socks5::UdpDrop::unexpected_address));
  BOOST_TEST(r.layer == 0u);

  // Hop 2's control connection runs through hop 1; when hop 2 drops it, the association ends.
  b->controls.clear();
  co_await as.wait_closed();
}

awaitable<void> open_fails(Lab* lab, std::vector<HopSpec> hops, std::string* message) {
  auto opened = co_await Association::open(compiled(hops), lab->services);
  BOOST_REQUIRE(opened.error.has_value());
  BOOST_TEST(!opened.association);
  *message = opened.error->message();
}

awaitable<void> direct(Lab* lab, udp_socket* target) {
  auto opened = co_await Association::open(hc::chain::Hops{}, lab->services);
  BOOST_REQUIRE(!opened.error);
  Association& as = *opened.association;
  BOOST_TEST(as.describe() == "direct");
  const HostPort where{"127.0.0.1", target->local_endpoint().port()};
  const auto t = co_await as.prepare(where);
  BOOST_REQUIRE(!t.ec);
  BOOST_TEST(as.overhead(t) == 0u);
  co_await as.send(t, bytes("plain"));
  const Datagram d = co_await receive_at(*target);
  BOOST_TEST(text(d.bytes) == "plain");  // no header at all
  // A third party reaches the socket too (it listens on every interface): it is not a
  // destination, so its datagram is dropped.
  udp_socket stranger(target->get_executor(), udp_endpoint(kLoopback, 0));
  const Bytes forged = bytes("forged");
  co_await stranger.async_send_to(asio::buffer(forged), d.from, asio::use_awaitable);
  const Bytes reply = bytes("reply");
  co_await target->async_send_to(asio::buffer(reply), d.from, asio::use_awaitable);
  std::vector<std::uint8_t> buffer(65536);
  auto r = co_await as.receive(buffer);
  BOOST_TEST(r.wrong_source);
  BOOST_TEST(r.from == stranger.local_endpoint());
  BOOST_TEST(hc::udp::wrong_source_text(as) == "not from a destination sent to");
  r = co_await as.receive(buffer);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.origin.to_string() == t.header.to_string());
  BOOST_TEST(text(r.payload) == "reply");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(udp_association)

BOOST_AUTO_TEST_CASE(one_hop_relay_headers_and_checks) {
  Lab lab;
  FakeHop a(lab.io);
  lab.start(a);
  lab.run(one_hop(&lab, &a));
}

BOOST_AUTO_TEST_CASE(one_hop_explicit_bnd_address) {
  Lab lab;
  FakeHop a(lab.io);
  a.bnd_host = "127.0.0.1";
  lab.start(a);
  lab.run(one_hop(&lab, &a));
}

BOOST_AUTO_TEST_CASE(two_hops_bnd_zero_means_the_hop_as_its_url_names_it) {
  Lab lab;
  FakeHop a(lab.io);
  FakeHop b(lab.io);
  lab.start(a);
  lab.start(b);
  lab.run(two_hops(&lab, &a, &b, a.url(), b.url("socks5h"),
                   "127.0.0.1:" + std::to_string(b.relay_port())));
}

BOOST_AUTO_TEST_CASE(two_hops_name_passed_to_a_hop_that_resolves_names) {
  Lab lab;
  FakeHop a(lab.io);
  FakeHop b(lab.io);
  lab.start(a);
  lab.start(b);
  // Hop 1 is socks5h: it gets R_2 as the name in hop 2's URL, unresolved.
  lab.run(two_hops(&lab, &a, &b, a.url("socks5h"), b.url("socks5h", "localhost"),
                   "localhost:" + std::to_string(b.relay_port())));
}

BOOST_AUTO_TEST_CASE(refusals_name_the_hop) {
  Lab lab;
  FakeHop a(lab.io);
  FakeHop b(lab.io);
  lab.start(a);
  lab.start(b);
  std::string message;

  b.rep = 0x07;
  lab.run(open_fails(&lab, {hop_spec(a.url()), hop_spec(b.url())}, &message));
  BOOST_TEST(message.find("hop 2/2 " + b.url() + ": request: command not supported") == 0u,
             message);
  BOOST_TEST(message.find("does not carry UDP") != std::string::npos, message);

  b.rep = 0;
  b.close_on_associate = true;
  lab.run(open_fails(&lab, {hop_spec(a.url()), hop_spec(b.url())}, &message));
  BOOST_TEST(message.find("hop 2/2 ") == 0u, message);
  BOOST_TEST(message.find("does not seem to carry UDP") != std::string::npos, message);

  a.bnd_port = 0;
  lab.run(open_fails(&lab, {hop_spec(a.url())}, &message));
  BOOST_TEST(message.find("hop 1/1 " + a.url() +
                          ": request: UDP ASSOCIATE answered with relay "
                          "port 0") == 0u,
             message);

  // A hop that cannot be reached at all.
  const std::string gone = a.url();
  a.acceptor.close();
  lab.run(open_fails(&lab, {hop_spec(gone)}, &message));
  BOOST_TEST(message.find("hop 1/1 " + gone + ": connect:") == 0u, message);
}

BOOST_AUTO_TEST_CASE(chains_that_cannot_carry_udp_are_refused_before_connecting) {
  using hc::udp::check_udp_chain;
  BOOST_TEST(!check_udp_chain({}).has_value());
  BOOST_TEST(!check_udp_chain(compiled({hop_spec("socks5://a:1"), hop_spec("socks5h://b:2")}))
                  .has_value());
  struct Case {
    std::vector<std::string> urls;
    std::string want;
  };
  std::vector<Case> cases = {
      {{"socks4://a:1"}, "hop 1/1 socks4://a:1: request: cannot carry UDP: only SOCKS5"},
      {{"socks5://a:1", "socks4a://b:2"}, "hop 2/2 socks4a://b:2: request: cannot carry UDP"},
      {{"socks5://a:1", "http://b:2", "socks5://c:3"}, "hop 2/3 http://b:2: request: cannot carry"},
      {{"socks5h+tls://a:1"}, "hop 1/1 socks5h+tls://a:1: request: cannot carry UDP: datagrams"},
  };
  if (hc::transport::gss_available()) {  // else such a hop does not even compile
    cases.push_back({{"socks5://a:1", "socks5h://b:2?auth=gssapi"},
                     "hop 2/2 socks5h://b:2: request: cannot carry UDP: GSS-API"});
  }
  for (const auto& c : cases) {
    std::vector<HopSpec> hops;
    for (const auto& u : c.urls) {
      hops.push_back(hop_spec(u));
    }
    const auto e = check_udp_chain(compiled(hops));
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->message().find(c.want) == 0u, e->message());
  }
}

BOOST_AUTO_TEST_CASE(size_limits) {
  using hc::udp::max_datagram;
  BOOST_TEST(max_datagram(udp_endpoint(asio::ip::make_address("127.0.0.1"), 1)) == 65507u);
  BOOST_TEST(max_datagram(udp_endpoint(asio::ip::make_address("::1"), 1)) == 65527u);
  BOOST_TEST(max_datagram(udp_endpoint(asio::ip::make_address("::ffff:127.0.0.1"), 1)) == 65507u);
}

BOOST_AUTO_TEST_CASE(no_hop_sends_straight_to_the_target) {
  Lab lab;
  udp_socket target(lab.io, udp_endpoint(kLoopback, 0));
  lab.run(direct(&lab, &target));
}

BOOST_AUTO_TEST_SUITE_END()
