#include "app/dns_stub.hpp"

#include <optional>
#include <span>
#include <sstream>
#include <utility>

#include "app/listener.hpp"
#include "chain/handshake.hpp"
#include "chain/open_chain.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/dns_message.hpp"
#include "transport/deadline.hpp"
#include "transport/stream.hpp"

namespace hc::app {

namespace dns = proto::dns;
using Bytes = std::vector<std::uint8_t>;
using udp = asio::ip::udp;

struct DnsStub::State {
  State(udp::socket u, tcp::acceptor a, capture::FakeAddresses& p, chain::Services& s,
        DnsStubOptions o)
      : udp_socket(std::move(u)),
        acceptor(std::move(a)),
        pool(p),
        services(s),
        options(std::move(o)) {}

  udp::socket udp_socket;
  tcp::acceptor acceptor;
  capture::FakeAddresses& pool;
  chain::Services& services;
  const DnsStubOptions options;
  std::size_t in_flight = 0;    // upstream queries running
  std::size_t tcp_clients = 0;  // TCP clients being served
};

namespace {

using State = DnsStub::State;

/// Counts a running task in `counter` for as long as it lives.
class Counted {
 public:
  explicit Counted(std::size_t& counter) : counter_(counter) { ++counter_; }
  ~Counted() { --counter_; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 private:
  std::size_t& counter_;
};

std::string type_name(std::uint16_t type) {
  switch (type) {
    case dns::kTypeA:
      return "A";
    case dns::kTypeAaaa:
      return "AAAA";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 33:
      return "SRV";
    case 255:
      return "ANY";
    default:
      return "TYPE" + std::to_string(type);
  }
}

std::string describe(const dns::Query& query) {
  return "dns: " + type_name(query.type) + " " + (query.name.empty() ? "." : query.name);
}

/// What an upstream exchange gave: the reply, or why there is none.
struct Exchanged {
  Bytes reply;
  std::string error;
};

/// Sends one framed query over an open chain and reads the framed reply to it.
awaitable<Exchanged> exchange(transport::Stream& stream, Bytes framed, std::uint16_t id) {
  Exchanged out;
  if (auto [ec, n] = co_await stream.write_all(framed); ec) {
    out.error = "cannot send the query to the resolver: " + ec.message();
    co_return out;
  }
  dns::TcpFrameReader reader;
  proto::Stage stage = proto::Stage::request;
  if (const auto ec = co_await chain::run_handshake(stream, reader, stage); ec) {
    out.error = "no answer from the resolver: " + ec.message();
  } else if (!dns::answers(reader.message(), id)) {
    out.error = "the resolver's answer does not match the query";
  } else {
    out.reply = reader.message();
  }
  co_return out;
}

/// The query, as DNS over TCP through a chain of its own, to the upstream resolver.
awaitable<Exchanged> ask_upstream(State& s, std::span<const std::uint8_t> query, std::uint16_t id) {
  if (s.options.upstream.host.empty()) {
    co_return Exchanged{{}, "no resolver to ask: name one with --dns-server"};
  }
  auto framed = dns::frame(query);
  if (!framed) {
    co_return Exchanged{{}, framed.error().message()};
  }
  chain::Services services = s.services;  // its own copy: the log tag of this query's chain
  services.log_tag = log::next_connection_tag();
  const chain::Hops none;
  const chain::Hops& hops = services.planner != nullptr ? services.planner->hops() : none;
  chain::ChainResult chain =
      co_await chain::open_chain_with_strategy(hops, s.options.upstream, services);
  if (chain.error) {
    co_return Exchanged{{}, chain.error->message()};
  }
  tcp::socket* bottom = chain.stream->bottom();
  if (bottom == nullptr) {
    co_return Exchanged{{}, "the chain has no socket to bound the exchange with"};
  }
  auto done = co_await transport::with_deadline(*bottom, s.options.upstream_timeout,
                                                exchange(*chain.stream, std::move(*framed), id));
  chain.stream->close();
  if (!done) {
    co_return Exchanged{
        {}, "no answer from the resolver within " + log::seconds_text(s.options.upstream_timeout)};
  }
  co_return std::move(*done);
}

/// The answer the stub gives itself, when it gives one: fake addresses, and what it refuses.
std::optional<Bytes> local_answer(State& s, const dns::Query& query) {
  if (query.opcode != 0) {
    return dns::empty_answer(query, dns::Rcode::notimp);
  }
  const bool address_query = query.type == dns::kTypeA || query.type == dns::kTypeAaaa;
  if (s.options.mode != DnsMode::fake || query.klass != dns::kClassIn || !address_query) {
    return std::nullopt;
  }
  // A name the chain could not carry to the last hop cannot be reached through it either.
  if (!query.is_host_name()) {
    return dns::empty_answer(query, dns::Rcode::nxdomain);
  }
  const auto now = capture::FakeAddresses::Clock::now();
  if (query.type == dns::kTypeAaaa) {
    if (!s.options.fake_ipv6) {
      return dns::empty_answer(query, dns::Rcode::noerror);
    }
    if (const auto address = s.pool.v6(query.name, now)) {
      log::debug(describe(query) + " -> " + address->to_string());
      return dns::address_answer(query, address->to_bytes(), s.options.fake_ttl);
    }
  } else if (const auto address = s.pool.v4(query.name, now)) {
    log::debug(describe(query) + " -> " + address->to_string());
    return dns::address_answer(query, address->to_bytes(), s.options.fake_ttl);
  }
  log::error(describe(query) + ": SERVFAIL: every fake address is in use");
  return dns::empty_answer(query, dns::Rcode::servfail);
}

/// The reply to one message from a client; nullopt drops it (a response, or not DNS at all).
awaitable<std::optional<Bytes>> answer_message(std::shared_ptr<State> s,
                                               std::span<const std::uint8_t> message) {
  auto query = dns::parse_query(message);
  if (!query) {
    log::verbose("dns: message refused: " + query.error().message());
    co_return dns::format_error(message);
  }
  if (auto answer = local_answer(*s, *query)) {
    co_return answer;
  }
  if (s->in_flight >= s->options.max_in_flight) {
    log::error(describe(*query) + ": SERVFAIL: the limit of " + std::to_string(s->in_flight) +
               " queries waiting for the resolver is reached");
    co_return dns::empty_answer(*query, dns::Rcode::servfail);
  }
  // A local owner declared before the counter outlives it even when the frame is destroyed at
  // shutdown (GCC 12 may release a coroutine's parameters first).
  const std::shared_ptr<State> owner = s;
  const Counted running(owner->in_flight);
  Exchanged upstream = co_await ask_upstream(*s, message, query->id);
  if (!upstream.error.empty()) {
    log::error(describe(*query) + ": SERVFAIL: " + upstream.error);
    co_return dns::empty_answer(*query, dns::Rcode::servfail);
  }
  log::debug(describe(*query) + ": answered by " + s->options.upstream.to_string());
  co_return std::move(upstream.reply);
}

/// One datagram's answer, sent when it is known. Replies that do not fit the client are cut.
awaitable<void> serve_datagram(std::shared_ptr<State> s, Bytes message, udp::endpoint from) {
  auto reply = co_await answer_message(s, message);
  if (!reply) {
    co_return;
  }
  // Parsed again only for the client's size limit; a message that fails got FORMERR (small).
  const auto query = dns::parse_query(message);
  if (query && reply->size() > query->udp_limit()) {
    auto cut = dns::truncate_reply(*reply);
    reply = cut ? std::move(*cut) : dns::empty_answer(*query, dns::Rcode::servfail);
  }
  // Non-blocking: a datagram that does not fit the socket's buffer now is lost, as UDP may be.
  std::error_code ec;
  s->udp_socket.send_to(asio::buffer(*reply), from, 0, ec);
  if (ec && ec != asio::error::would_block) {
    log::verbose("dns: cannot answer " + from.address().to_string() + ": " + ec.message());
  }
}

awaitable<void> serve_udp(std::shared_ptr<State> s) {
  const auto ex = co_await asio::this_coro::executor;
  Bytes buffer(0xFFFF);
  for (;;) {
    udp::endpoint from;
    auto [ec, n] = co_await s->udp_socket.async_receive_from(asio::buffer(buffer), from, nothrow);
    if (ec == asio::error::operation_aborted || !s->udp_socket.is_open()) {
      co_return;
    }
    if (ec) {
      continue;  // an error queued by an earlier send (ICMP): the socket still works
    }
    asio::co_spawn(ex, serve_datagram(s, Bytes(buffer.begin(), buffer.begin() + n), from),
                   log_task_end);
  }
}

/// One TCP client: framed queries answered in turn, until it closes or goes quiet.
awaitable<void> serve_tcp_client(std::shared_ptr<State> s, tcp::socket socket) {
  if (s->tcp_clients >= s->options.max_tcp_clients) {
    log::verbose("dns: a TCP client refused: " + std::to_string(s->tcp_clients) +
                 " are being served");
    co_return;
  }
  const std::shared_ptr<State> owner = s;  // outlives the counter (see answer_message)
  const Counted serving(owner->tcp_clients);
  transport::TcpStream stream(std::move(socket));
  for (;;) {
    dns::TcpFrameReader reader;
    proto::Stage stage = proto::Stage::request;
    const auto read = co_await transport::with_deadline(
        *stream.bottom(), s->options.tcp_idle_timeout, chain::run_handshake(stream, reader, stage));
    if (!read || *read) {
      if (read && read->category() == dns::dns_category()) {
        log::verbose("dns: TCP client dropped: " + read->message());
      }
      co_return;
    }
    const auto reply = co_await answer_message(s, reader.message());
    if (!reply) {
      co_return;  // a response, or not DNS: nothing more is read from this client
    }
    const auto framed = dns::frame(*reply);
    if (!framed) {
      co_return;
    }
    if (auto [ec, n] = co_await stream.write_all(*framed); ec) {
      co_return;
    }
  }
}

/// c-ares' "IP:PORT" / "[v6]:PORT" (dns::parse_dns_server) as a HostPort.
proto::HostPort host_port_of(const std::string& csv) {
  const auto colon = csv.rfind(':');
  std::string host = csv.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, static_cast<std::uint16_t>(std::stoul(csv.substr(colon + 1)))};
}

}  // namespace

std::string namespace_resolv_conf(const asio::ip::address& stub) {
  return "# Written by hopchain exec: names are answered by its stub resolver.\n"
         "nameserver " +
         stub.to_string() + "\n";
}

Result<proto::HostPort> dns_upstream(const std::vector<std::string>& dns_servers,
                                     std::string_view host_resolv_conf, bool through_hops) {
  if (!dns_servers.empty()) {
    const auto csv = hc::dns::parse_dns_server(dns_servers.front());
    if (!csv) {
      return failure("bad --dns-server value '" + dns_servers.front() + "'");
    }
    return host_port_of(*csv);
  }
  std::istringstream lines{std::string(host_resolv_conf)};
  std::string line;
  std::string skipped;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword;
    std::string value;
    if (!(words >> keyword >> value) || keyword != "nameserver") {
      continue;
    }
    std::error_code ec;
    const auto address = asio::ip::make_address(value, ec);
    if (ec) {
      continue;  // a scoped link-local address or junk: nothing a hop could reach
    }
    if (through_hops && address.is_loopback()) {
      skipped = value;
      continue;
    }
    return proto::HostPort{address.to_string(), 53};
  }
  if (!skipped.empty()) {
    return failure("the host's name server " + skipped +
                   " is a loopback address, which the chain's last hop cannot reach: name a "
                   "resolver with --dns-server");
  }
  return failure("no name server in the host's resolv.conf: name one with --dns-server");
}

DnsStub::DnsStub(udp::socket udp_socket, tcp::acceptor acceptor, capture::FakeAddresses& pool,
                 chain::Services& services, DnsStubOptions options)
    : state_(std::make_shared<State>(std::move(udp_socket), std::move(acceptor), pool, services,
                                     std::move(options))) {
  std::error_code ignored;
  state_->udp_socket.non_blocking(true, ignored);
}

awaitable<void> DnsStub::run() {
  using namespace asio::experimental::awaitable_operators;
  std::shared_ptr<State> s = state_;
  std::error_code ignored;
  const auto at = s->acceptor.local_endpoint(ignored);
  const std::string label =
      "dns stub " + at.address().to_string() + ":" + std::to_string(at.port());
  // Named before the co_await: GCC 12 destroys a temporary handler holding a shared_ptr twice
  // when it is built inside the co_await expression.
  ConnectionHandler serve_client = [s](tcp::socket socket) {
    return serve_tcp_client(s, std::move(socket));
  };
  auto datagrams = serve_udp(s);
  auto clients = accept_connections(std::move(s->acceptor), label, std::move(serve_client));
  co_await (std::move(datagrams) && std::move(clients));
}

}  // namespace hc::app
