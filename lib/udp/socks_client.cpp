#include "udp/socks_client.hpp"

#include <chrono>
#include <span>
#include <utility>
#include <vector>

#include "log/log.hpp"
#include "proto/socks5_udp.hpp"
#include "transport/first_to_end.hpp"
#include "udp/strategy.hpp"

namespace hc::udp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBufferSize = 65536;
// Distinct targets remembered per association (a DNS client may ask many servers); past this the
// cache starts over rather than grow without bound.
constexpr std::size_t kMaxTargets = 64;
// Senders remembered as not the client (each logged once); past this the memory starts over.
constexpr std::size_t kMaxStrangers = 64;
// As in udp_relay: a chain that drops every association cannot make us spin.
constexpr auto kMinReopenInterval = std::chrono::seconds(1);

std::string endpoint_text(const Endpoint& e) {
  const Endpoint n = normalized(e);
  return proto::HostPort{n.address().to_string(), n.port()}.to_string();
}

void count_drop(SocksClientRelay& r, const std::string& why) {
  ++r.counters.dropped;
  log::verbose(r.who + ": datagram dropped: " + why);
}

/// For a client on this host: whether `src` sends from a socket of the client's user. Asked of
/// the kernel once per sender until one passes; a lookup that fails drops (fail closed).
bool sender_is_client(SocksClientRelay& r, const Endpoint& src) {
  if (!r.client_uid || r.sender_checked) {
    return true;
  }
  if (r.strangers.contains(src)) {
    ++r.counters.dropped;
    return false;
  }
  const SocketOwner owner = r.owner_of(src);
  if (owner.found && owner.uid == *r.client_uid) {
    r.sender_checked = true;
    return true;
  }
  ++r.counters.dropped;
  const std::string head = r.who + ": datagrams from " + endpoint_text(src) + " dropped: ";
  if (owner.lookup_failed) {
    // Not remembered: the next datagram asks again, as the failure may pass.
    if (!r.lookup_error_logged) {
      log::error(head + "cannot tell which user sends them: " + owner.error);
    }
    r.lookup_error_logged = true;
    return false;
  }
  if (r.strangers.size() >= kMaxStrangers) {
    r.strangers.clear();
  }
  r.strangers.insert(src);
  log::verbose(head + (owner.found ? "its socket belongs to uid " + std::to_string(owner.uid) +
                                         ", the client is uid " + std::to_string(*r.client_uid)
                                   : owner.error));
  return false;
}

struct FromClient {
  std::error_code ec;
  std::size_t size = 0;
};

/// The next datagram from the client; anything from elsewhere is dropped.
awaitable<FromClient> receive_from_client(SocksClientRelay& r, std::span<std::uint8_t> buffer) {
  for (;;) {
    Endpoint from;
    auto [ec, n] = co_await r.local.async_receive_from(asio::buffer(buffer.data(), buffer.size()),
                                                       from, nothrow);
    if (ec) {
      co_return FromClient{ec, 0};
    }
    const Endpoint src = normalized(from);
    if (src.address() != r.client_ip || (r.client_port != 0 && src.port() != r.client_port)) {
      count_drop(r, "it came from " + endpoint_text(src) + ", not from the client");
    } else if (sender_is_client(r, src)) {
      r.client_port = src.port();
      co_return FromClient{{}, n};
    }
    if (co_await is_cancelled()) {
      co_return FromClient{asio::error::operation_aborted, 0};
    }
  }
}

/// One client datagram, H(target)·payload, into the chain.
awaitable<void> forward_to_chain(SocksClientRelay& r, std::span<const std::uint8_t> datagram) {
  const auto h = proto::socks5::decode_udp_header(datagram);
  if (h.drop != proto::socks5::UdpDrop::none) {
    count_drop(r, "client header: " + std::string(proto::socks5::to_string(h.drop)));
    co_return;
  }
  const std::string key = h.address.to_string();
  auto it = r.targets.find(key);
  if (it == r.targets.end()) {
    if (auto why = r.refuse_host ? r.refuse_host(h.address) : std::nullopt) {
      count_drop(r, "target " + key + " is not allowed: " + *why);
      co_return;
    }
    Target t = co_await r.association->prepare(h.address);
    if (t.ec) {
      count_drop(r, "target " + key + ": " + t.ec.message());
      co_return;
    }
    if (r.hops.empty() && r.refuse_address) {
      // No hop: hopchain resolved the name, so the address it sends to is known.
      if (auto why = r.refuse_address(normalized(t.endpoint).address())) {
        count_drop(r, "target " + key + " is not allowed: " + *why);
        co_return;
      }
    }
    if (r.targets.size() >= kMaxTargets) {
      r.targets.clear();
    }
    it = r.targets.emplace(key, std::move(t)).first;
  }
  const SendResult sent = co_await r.association->send(it->second, datagram.subspan(h.size));
  if (sent.status == SendStatus::sent) {
    ++r.counters.sent;
  } else if (sent.status == SendStatus::too_large) {
    count_drop(r, std::to_string(datagram.size() - h.size) + " bytes to " + key + " are " +
                      std::to_string(sent.size) + " with the chain's headers, over the UDP limit");
  } else {
    count_drop(r, "send failed: " + sent.ec.message());
  }
}

awaitable<void> client_to_chain(SocksClientRelay& r, std::span<std::uint8_t> buffer) {
  for (;;) {
    const FromClient got = co_await receive_from_client(r, buffer);
    if (got.ec) {
      co_return;
    }
    co_await forward_to_chain(r, buffer.first(got.size));
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

awaitable<void> chain_to_client(SocksClientRelay& r) {
  std::vector<std::uint8_t> buffer(kBufferSize);
  std::vector<std::uint8_t> out;
  for (;;) {
    const Received got = co_await r.association->receive(buffer);
    if (got.ec) {
      co_return;
    }
    out.clear();
    if (got.wrong_source) {
      count_drop(
          r, "it came from " + endpoint_text(got.from) + ", " + wrong_source_text(*r.association));
    } else if (got.drop != proto::socks5::UdpDrop::none) {
      count_drop(r, "reply header " + std::to_string(got.layer + 1) + ": " +
                        std::string(proto::socks5::to_string(got.drop)));
    } else if (proto::socks5::encode_udp_header(got.origin, out)) {
      count_drop(r, "its origin cannot be put in a header");
    } else {
      // RFC 1928 §7: the client gets the reply with a header naming where it came from.
      out.insert(out.end(), got.payload.begin(), got.payload.end());
      const Endpoint to(r.client_ip, r.client_port);
      auto [ec, n] = co_await r.local.async_send_to(asio::buffer(out), to, nothrow);
      if (ec) {
        count_drop(r, "cannot deliver it to the client: " + ec.message());
      } else {
        ++r.counters.received;
      }
    }
    if (co_await is_cancelled()) {
      co_return;
    }
  }
}

/// What ended relaying through an association: the tasks of relay_through, in order.
enum class Ended : std::size_t { local_socket, association_socket, lost };

/// Both ways through the open association until our socket or the association's fails or a
/// control connection closes. Tasks rather than `||`: see transport/first_to_end.hpp.
awaitable<Ended> relay_through(SocksClientRelay& r, std::span<std::uint8_t> buffer) {
  std::vector<transport::Task> tasks;
  tasks.emplace_back([&r, buffer] { return client_to_chain(r, buffer); });
  tasks.emplace_back([&r] { return chain_to_client(r); });
  tasks.emplace_back([&r] { return r.association->wait_closed(); });
  const std::size_t first = co_await transport::first_to_end(tasks);
  co_return static_cast<Ended>(first);
}

awaitable<void> pause_until(Clock::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(nothrow);
}

}  // namespace

awaitable<void> relay_socks_client(SocksClientRelay& r) {
  std::vector<std::uint8_t> buffer(kBufferSize);
  Clock::time_point last_open = Clock::now();
  for (;;) {
    if (r.association) {
      const Ended ended = co_await relay_through(r, buffer);
      r.association->close();
      r.association.reset();
      r.targets.clear();
      // Cancelled from outside (the client's TCP connection closed), or our socket failed.
      if (co_await is_cancelled()) {
        co_return;
      }
      if (ended == Ended::local_socket) {
        co_return;
      }
      log::info(r.who + ": association through the chain lost; the next datagram opens a new one");
    }
    const FromClient got = co_await receive_from_client(r, buffer);
    if (got.ec) {
      co_return;
    }
    if (Clock::now() < last_open + kMinReopenInterval) {
      co_await pause_until(last_open + kMinReopenInterval);
    }
    last_open = Clock::now();
    auto opened = co_await open_association(r.hops, r.services);
    if (co_await is_cancelled()) {
      co_return;
    }
    if (opened.error) {
      log::error(r.who + ": " + opened.error->message());
      count_drop(r, "no association through the chain");
      continue;
    }
    r.association = std::move(opened.association);
    log::verbose(r.who + ": association open again: " + r.association->describe());
    co_await forward_to_chain(r, std::span<const std::uint8_t>(buffer.data(), got.size));
  }
}

}  // namespace hc::udp
