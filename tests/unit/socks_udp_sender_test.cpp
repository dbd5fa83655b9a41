// The SOCKS server's UDP relay for a client on this host (udp::SocksClientRelay with client_uid
// set), with the kernel's answer replaced: a sender of another user is dropped and asked about
// once, a failed lookup drops and is asked again, the client's user fixes the port (DST.PORT 0),
// and from then on another port of the same user is dropped without asking. Loopback only; the
// io_context runs for a bounded time.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "dns/resolver.hpp"
#include "proto/socks5_udp.hpp"
#include "udp/association.hpp"
#include "udp/socks_client.hpp"

using hc::awaitable;
using hc::udp::SocketOwner;
using hc::udp::SocksClientRelay;
using udp_socket = asio::ip::udp::socket;
using udp_endpoint = asio::ip::udp::endpoint;
using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

namespace {

const auto kLoopback = asio::ip::make_address("127.0.0.1");
constexpr std::uint32_t kClientUid = 1000;

struct Lab {
  asio::io_context io;
  hc::dns::Resolver resolver{io.get_executor(), {}};
  hc::chain::Services services{resolver, std::chrono::milliseconds(3000)};
  udp_socket target{io, udp_endpoint(kLoopback, 0)};
  udp_socket stranger{io, udp_endpoint(kLoopback, 0)};  // another user
  udp_socket broken{io, udp_endpoint(kLoopback, 0)};    // its owner cannot be asked
  udp_socket client{io, udp_endpoint(kLoopback, 0)};    // the client's user
  udp_socket sibling{io, udp_endpoint(kLoopback, 0)};   // the client's user, another port
  std::map<std::uint16_t, int> lookups;                 // by sender port

  SocketOwner owner_of(const udp_endpoint& sender) {
    ++lookups[sender.port()];
    SocketOwner o;
    if (sender.port() == stranger.local_endpoint().port()) {
      o.found = true;
      o.uid = 2000;
    } else if (sender.port() == broken.local_endpoint().port()) {
      o.lookup_failed = true;
      o.error = "sock_diag: no answer within 1 s";
    } else {
      o.found = true;
      o.uid = kClientUid;
    }
    return o;
  }
};

Bytes datagram(udp_socket& target, const std::string& payload) {
  Bytes out;
  const hc::proto::HostPort to{"127.0.0.1", target.local_endpoint().port()};
  BOOST_REQUIRE(!hc::proto::socks5::encode_udp_header(to, out));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

awaitable<std::string> next_at(udp_socket& s) {
  std::string text(65536, '\0');
  udp_endpoint from;
  const std::size_t n =
      co_await s.async_receive_from(asio::buffer(text), from, asio::use_awaitable);
  text.resize(n);
  co_return text;
}

awaitable<void> send(udp_socket& from, SocksClientRelay& relay, Bytes bytes) {
  co_await from.async_send_to(asio::buffer(bytes), relay.local.local_endpoint(),
                              asio::use_awaitable);
}

awaitable<void> senders(Lab* lab, SocksClientRelay* relay) {
  // Datagrams reach the relay socket in the order sent: by the time the client's arrives at the
  // target, every earlier one has been judged.
  for (const char* p : {"s1", "s2"}) {
    co_await send(lab->stranger, *relay, datagram(lab->target, p));
  }
  for (const char* p : {"b1", "b2"}) {
    co_await send(lab->broken, *relay, datagram(lab->target, p));
  }
  co_await send(lab->client, *relay, datagram(lab->target, "c1"));
  BOOST_TEST(co_await next_at(lab->target) == "c1");
  co_await send(lab->sibling, *relay, datagram(lab->target, "o1"));
  co_await send(lab->stranger, *relay, datagram(lab->target, "s3"));
  co_await send(lab->client, *relay, datagram(lab->target, "c2"));
  BOOST_TEST(co_await next_at(lab->target) == "c2");
}

awaitable<void> scenario(Lab* lab, SocksClientRelay* relay) {
  using namespace asio::experimental::awaitable_operators;
  auto opened = co_await hc::udp::Association::open({}, lab->services);
  BOOST_REQUIRE(!opened.error);
  relay->association = std::move(opened.association);
  co_await (hc::udp::relay_socks_client(*relay) || senders(lab, relay));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socks_udp_sender)

BOOST_AUTO_TEST_CASE(only_the_clients_user_takes_the_relay) {
  Lab lab;
  SocksClientRelay relay(udp_socket(lab.io, udp_endpoint(kLoopback, 0)), lab.services);
  relay.client_ip = kLoopback;
  relay.client_port = 0;  // DST.PORT 0: the first datagram of the client's user fixes it
  relay.client_uid = kClientUid;
  relay.owner_of = [&lab](const udp_endpoint& e) { return lab.owner_of(e); };
  relay.who = "test";

  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(lab.io, scenario(&lab, &relay), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    lab.io.run_one_until(deadline);
  }
  BOOST_REQUIRE_MESSAGE(done, "the test did not finish within 10 s");
  if (failure) {
    std::rethrow_exception(failure);
  }
  BOOST_TEST(relay.client_port == lab.client.local_endpoint().port());
  BOOST_TEST(lab.lookups[lab.stranger.local_endpoint().port()] == 1);  // remembered
  BOOST_TEST(lab.lookups[lab.broken.local_endpoint().port()] == 2);    // asked again
  BOOST_TEST(lab.lookups[lab.client.local_endpoint().port()] == 1);
  BOOST_TEST(lab.lookups[lab.sibling.local_endpoint().port()] == 0);  // the port is fixed
  BOOST_TEST(relay.counters.dropped == 6u);                           // s1 s2 b1 b2 o1 s3
  BOOST_TEST(relay.counters.sent == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
