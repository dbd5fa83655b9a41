/// Association::open: for each hop a control connection and a UDP ASSOCIATE, then the relay
/// address our headers name it by (see association.hpp for the scheme).
#include <chrono>
#include <utility>

#include "base/result.hpp"
#include "chain/handshake.hpp"
#include "chain/strategy.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/errors.hpp"
#include "proto/socks5.hpp"
#include "transport/deadline.hpp"
#include "udp/association.hpp"
#include "udp/resolve_host.hpp"

namespace hc::udp {
namespace {

using log::ms_since;
using log::seconds_text;

using Clock = std::chrono::steady_clock;

// Servers often cannot grow a socket buffer past the system limit; asking is still worth it, as a
// burst that overflows the default buffer is lost.
constexpr int kSocketBuffer = 1 << 20;

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

void grow_buffers(asio::ip::udp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  socket.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
}

/// What a failed Opened carries: each step below fails with one.
struct OpenFailure {
  chain::ChainError error;
  std::optional<std::size_t> blamed;
  bool lacks_udp = false;
};

template <class T>
using StepResult = Result<T, OpenFailure>;

Association::Opened failed(const OpenFailure& f) {
  return Association::Opened{nullptr, f.error, f.blamed, f.lacks_udp};
}

/// With no hop, straight to the targets: one dual-stack socket reaches IPv4 and IPv6 alike.
StepResult<asio::ip::udp::socket> open_direct_socket(const asio::any_io_executor& ex) {
  std::error_code ec;
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
    return failure(OpenFailure{std::move(e), std::nullopt, false});
  }
  grow_buffers(socket);
  return socket;
}

/// Hop k's control connection, through hops 1..k-1.
awaitable<StepResult<std::unique_ptr<transport::Stream>>> connect_control(
    const chain::Hops& hops, std::size_t k, chain::Services& services) {
  const std::size_t n = hops.size();
  const proto::HopSpec& hop = hops[k - 1]->spec;
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
    co_return failure(OpenFailure{std::move(e), blamed, false});
  }
  co_return std::move(chain.stream);
}

/// Our UDP socket, on the address hop 1's control connection comes from.
struct SourceSocket {
  asio::ip::udp::socket socket;
  proto::HostPort source;  ///< its address, which hop 1 is told in UDP ASSOCIATE
};

StepResult<SourceSocket> open_source_socket(const asio::any_io_executor& ex,
                                            transport::Stream& control, const chain::Hops& hops) {
  std::error_code ec;
  const auto local = control.bottom()->local_endpoint(ec);
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
    return failure(
        OpenFailure{hop_error(hops, 1, proto::Stage::request, ec, "cannot open a local UDP socket"),
                    std::nullopt, false});
  }
  grow_buffers(socket);
  return SourceSocket{std::move(socket), {mine.address().to_string(), mine.port()}};
}

/// UDP ASSOCIATE on hop k's control connection, announcing `source`: the relay address the hop
/// answers (BND), as it answered it.
awaitable<StepResult<proto::HostPort>> ask_for_relay(transport::Stream& control,
                                                     const chain::Hops& hops, std::size_t k,
                                                     proto::HostPort source,
                                                     chain::Services& services) {
  const proto::HopSpec& hop = hops[k - 1]->spec;
  proto::Socks5Connect codec(source, hop.credentials(),
                             proto::Socks5Options{proto::Socks5Command::udp_associate, false});
  proto::Stage stage = proto::Stage::auth;
  auto outcome = co_await transport::with_deadline(*control.bottom(), services.connect_timeout,
                                                   chain::run_handshake(control, codec, stage));
  if (!outcome) {
    co_return failure(OpenFailure{
        hop_error(hops, k, stage, chain::ChainErrc::timed_out,
                  "no answer to UDP ASSOCIATE within " + seconds_text(services.connect_timeout)),
        k - 1, false});
  }
  if (*outcome) {
    co_return failure(
        OpenFailure{hop_error(hops, k, stage, *outcome, refusal_detail(*outcome, stage)), k - 1,
                    refuses_udp(*outcome, stage)});
  }
  proto::HostPort relay = codec.bound();
  if (relay.port == 0) {
    co_return failure(OpenFailure{
        hop_error(hops, k, proto::Stage::request, UdpErrc::no_relay_port, relay.to_string()), k - 1,
        true});
  }
  co_return relay;
}

/// R_1, where our socket sends: hop 1's answer as an endpoint of our socket's family.
awaitable<StepResult<Endpoint>> first_relay_endpoint(const proto::HostPort& relay,
                                                     transport::Stream& control, bool socket_v4,
                                                     const chain::Hops& hops,
                                                     chain::Services& services) {
  std::error_code ec;
  const auto bnd = asio::ip::make_address(relay.host, ec);
  asio::ip::address address;
  if (!ec && bnd.is_unspecified()) {
    address = control.bottom()->remote_endpoint(ec).address();
  } else if (!ec) {
    address = bnd;
  } else {
    Resolved r = co_await resolve_host(services.resolver, relay.host);
    if (r.ec) {
      co_return failure(OpenFailure{
          hop_error(hops, 1, proto::Stage::resolve, r.ec, "UDP relay " + relay.host), 0, false});
    }
    address = r.addresses.front();
  }
  Endpoint first = normalized({address, relay.port});
  if (first.address().is_v4() != socket_v4) {
    co_return failure(OpenFailure{hop_error(hops, 1, proto::Stage::request, UdpErrc::relay_family,
                                            first.address().to_string()),
                                  0, true});
  }
  co_return first;
}

/// R_k for k > 1, as our headers ask hop k-1 to send to it.
awaitable<StepResult<proto::HostPort>> later_relay_address(proto::HostPort relay,
                                                           const chain::Hops& hops, std::size_t k,
                                                           chain::Services& services) {
  std::error_code ec;
  if (const auto bnd = asio::ip::make_address(relay.host, ec); !ec && bnd.is_unspecified()) {
    relay.host = hops[k - 1]->spec.server.host;
  }
  // Hop k-1 is the one that sends to R_k: as in a TCP chain, a hop that takes addresses only
  // (socks5://) gets one resolved here.
  if (!hops[k - 2]->spec.remote_dns && !proto::is_ipv4_literal(relay.host) &&
      !proto::is_ipv6_literal(relay.host)) {
    Resolved r = co_await resolve_host(services.resolver, relay.host);
    if (r.ec) {
      co_return failure(
          OpenFailure{hop_error(hops, k, proto::Stage::resolve, r.ec, "UDP relay " + relay.host),
                      k - 1, false});
    }
    relay.host = r.addresses.front().to_string();
  }
  co_return relay;
}

}  // namespace

std::optional<chain::ChainError> check_udp_chain(const chain::Hops& hops) {
  for (std::size_t i = 0; i < hops.size(); ++i) {
    if (hops[i]->spec.protocol != proto::Protocol::socks5) {
      return hop_error(hops, i + 1, proto::Stage::request, UdpErrc::not_socks5, "");
    }
    if (hops[i]->spec.tls) {
      return hop_error(hops, i + 1, proto::Stage::request, UdpErrc::tls_hop, "");
    }
    if (hops[i]->spec.gssapi.enabled) {
      return hop_error(hops, i + 1, proto::Stage::request, UdpErrc::gssapi_hop, "");
    }
  }
  return std::nullopt;
}

awaitable<Association::Opened> Association::open(chain::Hops hops, chain::Services& services) {
  const auto ex = co_await asio::this_coro::executor;
  if (auto refused = check_udp_chain(hops)) {
    const std::size_t index = refused->hop - 1;
    co_return Opened{nullptr, std::move(refused), index, true};
  }
  const std::size_t n = hops.size();
  if (n == 0) {
    auto socket = open_direct_socket(ex);
    if (!socket) {
      co_return failed(socket.error());
    }
    auto direct = std::make_unique<Association>(Key{}, std::move(*socket), 0);
    direct->resolver_ = &services.resolver;
    co_return Opened{std::move(direct), std::nullopt, std::nullopt, false};
  }

  std::unique_ptr<Association> a;
  for (std::size_t k = 1; k <= n; ++k) {
    const auto label = chain::hop_label(k, n, hops[k - 1]->redacted);
    const auto started = Clock::now();

    // 1. A control connection to hop k through hops 1..k-1.
    auto control = co_await connect_control(hops, k, services);
    if (!control) {
      co_return failed(control.error());
    }

    // 2. UDP ASSOCIATE. Only hop 1 sees our datagrams' real source, so only hop 1 is told it
    // (RFC 1928 §6 lets the server limit the association to it); later hops see the previous
    // hop's relay, unknown to us, which the RFC says to send as zeros.
    proto::HostPort source{"0.0.0.0", 0};
    if (k == 1) {
      auto mine = open_source_socket(ex, **control, hops);
      if (!mine) {
        co_return failed(mine.error());
      }
      source = mine->source;
      a = std::make_unique<Association>(Key{}, std::move(mine->socket), n);
    }
    auto relay = co_await ask_for_relay(**control, hops, k, source, services);
    if (!relay) {
      co_return failed(relay.error());
    }

    // 3. The relay address. BND.ADDR 0.0.0.0 or :: means "this hop's own address", which is
    // the address we reached it at (hop 1) or the one its URL names (the hop before it reaches
    // it by that).
    if (k == 1) {
      std::error_code ec;
      const bool socket_v4 = a->socket_.local_endpoint(ec).address().is_v4();
      auto first = co_await first_relay_endpoint(*relay, **control, socket_v4, hops, services);
      if (!first) {
        co_return failed(first.error());
      }
      a->first_relay_ = *first;
      *relay = {first->address().to_string(), first->port()};
    } else {
      auto later = co_await later_relay_address(*relay, hops, k, services);
      if (!later) {
        co_return failed(later.error());
      }
      *relay = *later;
      a->relays_.push_back(*relay);
    }
    a->controls_.push_back(std::move(*control));
    log::verbose(services.log_tag + label + ": UDP relay " + relay->to_string() + " in " +
                 ms_since(started));
  }
  a->last_hop_takes_names_ = hops.back()->spec.remote_dns;
  a->resolver_ = &services.resolver;
  co_return Opened{std::move(a), std::nullopt, std::nullopt, false};
}

}  // namespace hc::udp
