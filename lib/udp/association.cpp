#include "udp/association.hpp"

#include <array>
#include <chrono>
#include <utility>

#include "chain/handshake.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/errors.hpp"
#include "proto/socks5.hpp"
#include "transport/deadline.hpp"

// GCC 12 false positive on Asio's awaitable frames (see chain/open_chain.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace hc::udp {

Endpoint normalized(const Endpoint& e) {
  const auto a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()), e.port()};
  }
  return e;
}

// Anything a hop sends on a control connection after its reply means nothing to us.
awaitable<void> until_closed(transport::Stream& stream) {
  std::array<std::uint8_t, 512> sink{};
  for (;;) {
    auto [ec, n] = co_await stream.read_some(sink);
    if (ec) {
      co_return;
    }
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

namespace {

using log::ms_since;
using log::seconds_text;

using Clock = std::chrono::steady_clock;

// Servers often cannot grow a socket buffer past the system limit; asking is still worth it, as a
// burst that overflows the default buffer is lost.
constexpr int kSocketBuffer = 1 << 20;

class UdpCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "udp"; }
  std::string message(int ev) const override {
    switch (static_cast<UdpErrc>(ev)) {
      case UdpErrc::not_socks5:
        return "cannot carry UDP: only SOCKS5 hops have UDP ASSOCIATE";
      case UdpErrc::tls_hop:
        return "cannot carry UDP: datagrams to the hop's relay would travel outside its TLS";
      case UdpErrc::no_relay_port:
        return "UDP ASSOCIATE answered with relay port 0";
      case UdpErrc::relay_family:
        return "the hop's UDP relay is not of the IP family we reach the hop with";
      case UdpErrc::no_target_address:
        return "no usable address for the target";
      case UdpErrc::no_udp_hop:
        return "cannot carry UDP, and neither can any other hop of the list";
    }
    return "unknown UDP error";
  }
};

chain::ChainError hop_error(const chain::Hops& hops, std::size_t hop, proto::Stage stage,
                            std::error_code ec, std::string detail) {
  chain::ChainError e;
  e.hop = hop;
  e.hops = hops.size();
  e.where = hops[hop - 1]->redacted;
  e.stage = stage;
  e.ec = ec;
  e.detail = std::move(detail);
  return e;
}

/// What to add to a failed UDP ASSOCIATE so the message says the hop cannot carry UDP.
std::string refusal_detail(std::error_code ec, proto::Stage stage) {
  if (ec == proto::socks5_reply(0x07)) {
    return "UDP ASSOCIATE refused: this hop does not carry UDP";
  }
  if (ec == chain::ChainErrc::closed_during_handshake && stage == proto::Stage::request) {
    return "the hop closed the connection on UDP ASSOCIATE: it does not seem to carry UDP";
  }
  return "UDP ASSOCIATE";
}

/// Whether a failed UDP ASSOCIATE says the hop does not carry UDP at all (as opposed to being
/// down or slow): the refusals refusal_detail() explains.
bool refuses_udp(std::error_code ec, proto::Stage stage) {
  return ec == proto::socks5_reply(0x07) ||
         (ec == chain::ChainErrc::closed_during_handshake && stage == proto::Stage::request);
}

asio::ip::address parse_ip(const std::string& host, std::error_code& ec) {
  return asio::ip::make_address(host, ec);
}

/// `e` in the family of a socket opened for `protocol` (IPv4 goes IPv4-mapped into an IPv6 one).
Endpoint for_socket(const Endpoint& e, const asio::ip::udp& protocol) {
  if (protocol == asio::ip::udp::v6() && e.address().is_v4()) {
    return {asio::ip::make_address_v6(asio::ip::v4_mapped, e.address().to_v4()), e.port()};
  }
  return e;
}

struct Resolved {
  std::error_code ec;
  std::vector<asio::ip::address> addresses;
};

awaitable<Resolved> resolve(dns::Resolver& resolver, std::string host) {
  std::error_code ec;
  const auto literal = parse_ip(host, ec);
  if (!ec) {
    co_return Resolved{{}, {literal}};
  }
  auto [rec, addresses] = co_await resolver.resolve(std::move(host));
  if (!rec && addresses.empty()) {
    rec = chain::ChainErrc::no_address;
  }
  co_return Resolved{rec, std::move(addresses)};
}

/// Returns when any of `streams` closes: a tree of `||`, so no task outlives the call.
awaitable<void> until_any_closed(std::span<const std::unique_ptr<transport::Stream>> streams) {
  using namespace asio::experimental::awaitable_operators;
  if (streams.size() == 1) {
    co_await until_closed(*streams.front());
    co_return;
  }
  co_await (until_closed(*streams.front()) || until_any_closed(streams.subspan(1)));
}

awaitable<void> forever() {
  asio::steady_timer timer(co_await asio::this_coro::executor, Clock::time_point::max());
  co_await timer.async_wait(nothrow);
}

void grow_buffers(asio::ip::udp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  socket.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
}

}  // namespace

const std::error_category& udp_category() {
  static const UdpCategory c;
  return c;
}

std::error_code make_error_code(UdpErrc e) {
  return {static_cast<int>(e), udp_category()};
}

awaitable<bool> is_cancelled() {
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

std::size_t max_datagram(const Endpoint& to) {
  // 65535 (IP length field) minus the UDP header (8), and for IPv4 its 20-byte header; IPv6's
  // payload length field excludes its own header.
  return normalized(to).address().is_v4() ? 65507 : 65527;
}

std::optional<chain::ChainError> check_udp_chain(const chain::Hops& hops) {
  for (std::size_t i = 0; i < hops.size(); ++i) {
    if (hops[i]->spec.protocol != proto::Protocol::socks5) {
      return hop_error(hops, i + 1, proto::Stage::request, UdpErrc::not_socks5, "");
    }
    if (hops[i]->spec.tls) {
      return hop_error(hops, i + 1, proto::Stage::request, UdpErrc::tls_hop, "");
    }
  }
  return std::nullopt;
}

Association::Association(asio::ip::udp::socket socket, std::size_t hop_count)
    : socket_(std::move(socket)), hop_count_(hop_count) {}

Association::~Association() {
  close();
}

void Association::close() {
  for (auto& control : controls_) {
    control->close();
  }
  std::error_code ignored;
  socket_.close(ignored);
}

awaitable<Association::Opened> Association::open(chain::Hops hops, chain::Services& services) {
  const auto ex = co_await asio::this_coro::executor;
  if (auto refused = check_udp_chain(hops)) {
    const std::size_t index = refused->hop - 1;
    co_return Opened{nullptr, std::move(refused), index, true};
  }
  const std::size_t n = hops.size();
  std::error_code ec;

  if (n == 0) {
    // Straight to the targets: one dual-stack socket reaches IPv4 and IPv6 alike.
    asio::ip::udp::socket socket(ex);
    socket.open(asio::ip::udp::v6(), ec);
    if (!ec) {
      socket.set_option(asio::ip::v6_only(false), ec);
    }
    if (!ec) {
      socket.bind({asio::ip::address_v6::any(), 0}, ec);
    }
    if (ec) {
      // No IPv6 on this machine: IPv4 only.
      socket.close(ec);
      socket.open(asio::ip::udp::v4(), ec);
      if (!ec) {
        socket.bind({asio::ip::address_v4::any(), 0}, ec);
      }
    }
    if (ec) {
      chain::ChainError e;
      e.where = "local UDP socket";
      e.stage = proto::Stage::connect;
      e.ec = ec;
      co_return Opened{nullptr, std::move(e), std::nullopt, false};
    }
    grow_buffers(socket);
    auto direct = std::unique_ptr<Association>(new Association(std::move(socket), 0));
    direct->resolver_ = &services.resolver;
    co_return Opened{std::move(direct), std::nullopt, std::nullopt, false};
  }

  std::unique_ptr<Association> a;
  for (std::size_t k = 1; k <= n; ++k) {
    const proto::HopSpec& hop = hops[k - 1]->spec;
    const auto label = "hop " + std::to_string(k) + "/" + std::to_string(n) + " " + hop.redacted();
    const auto started = Clock::now();

    // 1. A control connection to hop k through hops 1..k-1.
    chain::Hops prefix = chain::first_hops(hops, k - 1);
    // Logs number the hops out of the whole chain, not out of the prefix.
    chain::Services labelled = services;
    labelled.label_hops = n;
    labelled.target_hop = hop.redacted();
    auto chain = co_await chain::open_chain(std::move(prefix), hop.server, labelled);
    if (chain.error) {
      chain::ChainError e = std::move(*chain.error);
      if (e.at_target()) {
        // The prefix was empty: the "target" was hop 1 itself.
        e.hop = 1;
        e.where = hop.redacted();
      }
      // As in a TCP chain: hop k counts as the prefix's target, so a refused request to reach
      // it blames hop k.
      const auto blamed = chain::blamed_hop(e, k);
      e.hops = n;
      co_return Opened{nullptr, std::move(e), blamed, false};
    }
    std::unique_ptr<transport::Stream> control = std::move(chain.stream);

    // 2. UDP ASSOCIATE. Only hop 1 sees our datagrams' real source, so only hop 1 is told it
    // (RFC 1928 §6 lets the server limit the association to it); later hops see the previous
    // hop's relay, unknown to us, which the RFC says to send as zeros.
    proto::HostPort source{"0.0.0.0", 0};
    if (k == 1) {
      const auto local = control->bottom()->local_endpoint(ec);
      asio::ip::udp::socket socket(ex);
      if (!ec) {
        socket.open(local.address().is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
      }
      if (!ec) {
        socket.bind({local.address(), 0}, ec);
      }
      Endpoint mine;
      if (!ec) {
        mine = socket.local_endpoint(ec);
      }
      if (ec) {
        co_return Opened{
            nullptr,
            hop_error(hops, k, proto::Stage::request, ec, "cannot open a local UDP socket"),
            std::nullopt, false};
      }
      grow_buffers(socket);
      a.reset(new Association(std::move(socket), n));
      source = {mine.address().to_string(), mine.port()};
    }
    proto::Socks5Connect codec(source, hop.credentials(),
                               proto::Socks5Options{proto::Socks5Command::udp_associate, false});
    proto::Stage stage = proto::Stage::auth;
    auto outcome = co_await transport::with_deadline(*control->bottom(), services.connect_timeout,
                                                     chain::run_handshake(*control, codec, stage));
    if (!outcome) {
      co_return Opened{
          nullptr,
          hop_error(hops, k, stage, chain::ChainErrc::timed_out,
                    "no answer to UDP ASSOCIATE within " + seconds_text(services.connect_timeout)),
          k - 1, false};
    }
    if (*outcome) {
      co_return Opened{nullptr,
                       hop_error(hops, k, stage, *outcome, refusal_detail(*outcome, stage)), k - 1,
                       refuses_udp(*outcome, stage)};
    }

    // 3. The relay address. BND.ADDR 0.0.0.0 or :: means "this hop's own address", which is
    // the address we reached it at (hop 1) or the one its URL names (the hop before it reaches
    // it by that).
    proto::HostPort relay = codec.bound();
    if (relay.port == 0) {
      co_return Opened{
          nullptr,
          hop_error(hops, k, proto::Stage::request, UdpErrc::no_relay_port, relay.to_string()),
          k - 1, true};
    }
    const auto bnd = parse_ip(relay.host, ec);
    const bool unspecified = !ec && bnd.is_unspecified();
    if (k == 1) {
      asio::ip::address address;
      if (unspecified) {
        address = control->bottom()->remote_endpoint(ec).address();
      } else if (!ec) {
        address = bnd;
      } else {
        Resolved r = co_await resolve(services.resolver, relay.host);
        if (r.ec) {
          co_return Opened{
              nullptr, hop_error(hops, k, proto::Stage::resolve, r.ec, "UDP relay " + relay.host),
              k - 1, false};
        }
        address = r.addresses.front();
      }
      Endpoint first = normalized({address, relay.port});
      const bool socket_v4 = a->socket_.local_endpoint(ec).address().is_v4();
      if (first.address().is_v4() != socket_v4) {
        co_return Opened{nullptr,
                         hop_error(hops, k, proto::Stage::request, UdpErrc::relay_family,
                                   first.address().to_string()),
                         k - 1, true};
      }
      a->first_relay_ = first;
      relay = {first.address().to_string(), first.port()};
    } else {
      if (unspecified) {
        relay.host = hop.server.host;
      }
      // Hop k-1 is the one that sends to R_k: as in a TCP chain, a hop that takes addresses only
      // (socks5://) gets one resolved here.
      if (!hops[k - 2]->spec.remote_dns && !proto::is_ipv4_literal(relay.host) &&
          !proto::is_ipv6_literal(relay.host)) {
        Resolved r = co_await resolve(services.resolver, relay.host);
        if (r.ec) {
          co_return Opened{
              nullptr, hop_error(hops, k, proto::Stage::resolve, r.ec, "UDP relay " + relay.host),
              k - 1, false};
        }
        relay.host = r.addresses.front().to_string();
      }
      a->relays_.push_back(relay);
    }
    a->controls_.push_back(std::move(control));
    log::verbose(services.log_tag + label + ": UDP relay " + relay.to_string() + " in " +
                 ms_since(started));
  }
  a->last_hop_takes_names_ = hops.back()->spec.remote_dns;
  a->resolver_ = &services.resolver;
  co_return Opened{std::move(a), std::nullopt, std::nullopt, false};
}

awaitable<Target> Association::prepare(proto::HostPort target) {
  Target t;
  const bool literal = proto::is_ipv4_literal(target.host) || proto::is_ipv6_literal(target.host);
  if (hop_count_ > 0 && (literal || last_hop_takes_names_)) {
    t.header = std::move(target);
    co_return t;
  }
  Resolved r = co_await resolve(*resolver_, target.host);
  if (r.ec) {
    t.ec = r.ec;
    co_return t;
  }
  if (hop_count_ > 0) {
    t.header = {r.addresses.front().to_string(), target.port};
    co_return t;
  }
  // Direct: an address the socket can send to (an IPv4-only socket cannot reach IPv6).
  std::error_code ec;
  const auto family = socket_.local_endpoint(ec).protocol();
  for (const auto& address : r.addresses) {
    if (family == asio::ip::udp::v6() || address.is_v4()) {
      t.endpoint = {address, target.port};
      t.header = {address.to_string(), target.port};
      co_return t;
    }
  }
  t.ec = UdpErrc::no_target_address;
  co_return t;
}

std::size_t Association::overhead(const Target& target) const {
  if (hop_count_ == 0) {
    return 0;
  }
  std::vector<proto::HostPort> all = relays_;
  all.push_back(target.header);
  return proto::socks5::udp_headers_size(all).value_or(0);
}

awaitable<SendResult> Association::send(const Target& target,
                                        std::span<const std::uint8_t> payload) {
  SendResult result;
  std::error_code ec;
  if (hop_count_ == 0) {
    result.size = payload.size();
    if (payload.size() > max_datagram(target.endpoint)) {
      result.status = SendStatus::too_large;
      co_return result;
    }
    remember_peer(target.endpoint);
    const auto to = for_socket(target.endpoint, socket_.local_endpoint(ec).protocol());
    auto [sec, n] =
        co_await socket_.async_send_to(asio::buffer(payload.data(), payload.size()), to, nothrow);
    if (sec) {
      result.status = SendStatus::failed;
      result.ec = sec;
    }
    co_return result;
  }
  header_addresses_ = relays_;
  header_addresses_.push_back(target.header);
  if (auto wrap_ec = proto::socks5::wrap_udp(header_addresses_, payload, datagram_)) {
    result.status = SendStatus::failed;
    result.ec = wrap_ec;
    co_return result;
  }
  result.size = datagram_.size();
  if (datagram_.size() > max_datagram(first_relay_)) {
    result.status = SendStatus::too_large;
    co_return result;
  }
  auto [sec, n] = co_await socket_.async_send_to(asio::buffer(datagram_), first_relay_, nothrow);
  if (sec) {
    result.status = SendStatus::failed;
    result.ec = sec;
  }
  co_return result;
}

awaitable<Received> Association::receive(std::span<std::uint8_t> buffer) {
  Received r;
  Endpoint from;
  auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer.data(), buffer.size()),
                                                     from, nothrow);
  if (ec) {
    r.ec = ec;
    co_return r;
  }
  r.from = normalized(from);
  const std::span<const std::uint8_t> datagram(buffer.data(), n);
  if (hop_count_ == 0) {
    // The socket listens on every interface: anyone could send to it.
    if (!peers_.contains(r.from)) {
      r.wrong_source = true;
      co_return r;
    }
    r.origin = {r.from.address().to_string(), r.from.port()};
    r.payload = datagram;
    co_return r;
  }
  // Only R_1 may talk to us on this socket; anyone else could forge a whole stack of headers.
  if (r.from != first_relay_) {
    r.wrong_source = true;
    co_return r;
  }
  const auto u = proto::socks5::unwrap_udp(datagram, relays_, nullptr);
  if (u.drop != proto::socks5::UdpDrop::none) {
    r.drop = u.drop;
    r.layer = u.layer;
    co_return r;
  }
  r.origin = u.origin;
  r.payload = u.payload;
  co_return r;
}

void Association::remember_peer(const Endpoint& to) {
  const Endpoint peer = normalized(to);
  if (!peers_.insert(peer).second) {
    return;
  }
  peers_order_.push_back(peer);
  if (peers_order_.size() > kMaxDirectPeers) {
    peers_.erase(peers_order_.front());
    peers_order_.pop_front();
  }
}

std::string wrong_source_text(const Association& a) {
  return a.hops() == 0 ? "not from a destination sent to" : "not from the relay";
}

awaitable<void> Association::wait_closed() {
  if (controls_.empty()) {
    co_await forever();
    co_return;
  }
  co_await until_any_closed(controls_);
}

std::string Association::describe() const {
  if (hop_count_ == 0) {
    return "direct";
  }
  std::string s =
      "relay " +
      proto::HostPort{first_relay_.address().to_string(), first_relay_.port()}.to_string();
  for (std::size_t i = 0; i < relays_.size(); ++i) {
    s += ", then " + relays_[i].to_string();
  }
  return s;
}

}  // namespace hc::udp
