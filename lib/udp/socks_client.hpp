/// The UDP half of a local SOCKS5 client's UDP ASSOCIATE (the `socks` front end): datagrams the
/// client sends to our relay socket, each with its own RFC 1928 §7 header naming its target, go
/// through the chain's association; replies come back to the client with a header naming where
/// they came from. With no hop the association sends straight to the targets.
///
/// Only datagrams from the client's IP (the one its TCP connection came from) are taken, and
/// once the first one fixed it (or the request named it), only from its port. A client on this
/// host shares that IP with every local user: its datagrams must also come from a UDP socket of
/// the user owning its TCP connection (asked of the kernel for each new sender until one passes;
/// the answer then holds for the client's port). A lost chain
/// association is reopened with the client's next datagram; the caller ends the whole thing when
/// the client's TCP connection closes (RFC 1928 §7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/open_chain.hpp"
#include "proto/proxy_url.hpp"
#include "transport/asio.hpp"
#include "udp/association.hpp"
#include "udp/socket_owner.hpp"
#include "udp/udp_relay.hpp"

namespace hc::udp {

struct SocksClientRelay {
  SocksClientRelay(asio::ip::udp::socket socket, chain::Services& s)
      : local(std::move(socket)), services(s) {}

  asio::ip::udp::socket local;    ///< bound for this client; its address went out as BND
  asio::ip::address client_ip;    ///< datagrams are taken from this address only
  std::uint16_t client_port = 0;  ///< and this port; 0 until the first datagram fixes it
  chain::Hops hops;
  chain::Services& services;
  std::unique_ptr<Association> association;  ///< may start open; reopened after a loss
  Counters counters;
  std::string who;                        ///< for logs: "socks client 127.0.0.1:40000: UDP"
  std::map<std::string, Target> targets;  ///< targets as prepared for this association
  /// The server's target rules (socks --allow/--deny, local addresses beyond loopback): why
  /// datagrams to this address may not go, or nullopt. Unset: every target may.
  std::function<std::optional<std::string>(const asio::ip::address&)> refuse_address;
  /// The same for a target as the client named it (an address, or `localhost`); other names are
  /// checked once resolved, where hopchain resolves them (no hop).
  std::function<std::optional<std::string>(const proto::HostPort&)> refuse_host;

  /// A client on this host: the user owning its TCP connection, whom every sender must be.
  std::optional<std::uint32_t> client_uid;
  /// Who owns a sender's socket (the kernel's answer; tests put theirs).
  std::function<SocketOwner(const Endpoint&)> owner_of = udp_socket_owner;
  bool sender_checked = false;   ///< the client's port passed the owner check
  std::set<Endpoint> strangers;  ///< senders found not to be the client: dropped without asking
  bool lookup_error_logged = false;
};

/// Relays both ways until the local socket fails or the caller cancels it.
awaitable<void> relay_socks_client(SocksClientRelay& relay);

}  // namespace hc::udp
