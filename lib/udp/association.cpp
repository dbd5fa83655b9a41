#include "udp/association.hpp"

#include <array>
#include <chrono>
#include <utility>
#include <vector>

#include "transport/first_to_end.hpp"
#include "udp/resolve_host.hpp"

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

using Clock = std::chrono::steady_clock;

class UdpCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "udp"; }
  std::string message(int ev) const override {
    switch (static_cast<UdpErrc>(ev)) {
      case UdpErrc::not_socks5:
        return "cannot carry UDP: only SOCKS5 hops have UDP ASSOCIATE";
      case UdpErrc::tls_hop:
        return "cannot carry UDP: datagrams to the hop's relay would travel outside its TLS";
      case UdpErrc::gssapi_hop:
        return "cannot carry UDP: GSS-API (auth=gssapi) datagram protection is not supported";
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

/// `e` in the family of a socket opened for `protocol` (IPv4 goes IPv4-mapped into an IPv6 one).
Endpoint for_socket(const Endpoint& e, const asio::ip::udp& protocol) {
  if (protocol == asio::ip::udp::v6() && e.address().is_v4()) {
    return {asio::ip::make_address_v6(asio::ip::v4_mapped, e.address().to_v4()), e.port()};
  }
  return e;
}

awaitable<void> forever() {
  asio::steady_timer timer(co_await asio::this_coro::executor, Clock::time_point::max());
  co_await timer.async_wait(nothrow);
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

Association::Association(Key, asio::ip::udp::socket socket, std::size_t hop_count)
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

awaitable<Target> Association::prepare(proto::HostPort target) {
  Target t;
  const bool literal = proto::is_ipv4_literal(target.host) || proto::is_ipv6_literal(target.host);
  if (hop_count_ > 0 && (literal || last_hop_takes_names_)) {
    t.header = std::move(target);
    co_return t;
  }
  Resolved r = co_await resolve_host(*resolver_, target.host);
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
  if (controls_.size() == 1) {
    co_await until_closed(*controls_.front());
    co_return;
  }
  // One watch per connection side by side, not a tree of `||`: see transport/first_to_end.hpp.
  std::vector<transport::Task> watches;
  for (const auto& control : controls_) {
    transport::Stream* stream = control.get();
    watches.emplace_back([stream] { return until_closed(*stream); });
  }
  co_await transport::first_to_end(watches);
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
