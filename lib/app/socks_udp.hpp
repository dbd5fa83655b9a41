/// The local SOCKS server's answer to SOCKS5 UDP ASSOCIATE: an association through the chain
/// (directly with no hop), a UDP socket for the client, the grant naming it, then datagrams both
/// ways until the client's TCP connection closes.
#pragma once

#include <cstdint>
#include <string>

#include "app/config.hpp"
#include "chain/open_chain.hpp"
#include "proto/socks_server.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// Who may send to the relay of a UDP ASSOCIATE. A client on this host (its connection comes
/// from loopback or from the address it reached) shares its IP with every local user; a remote
/// one shares it with nobody we can tell apart, so its port is all that can be checked, and
/// only once its first datagram arrives if the request named none.
enum class UdpSenderRule : std::uint8_t {
  owner,    ///< senders must be UDP sockets of the user owning the client's TCP connection
  address,  ///< senders must come from the client's address (and port, once known)
  refuse,   ///< remote, no port, on a --users server without --udp-any-port: REP 0x02
};
UdpSenderRule udp_sender_rule(const asio::ip::address& client, const asio::ip::address& server,
                              std::uint16_t client_port, bool users, bool any_port);

/// `codec` has completed a UDP ASSOCIATE request on `client`; answers it and serves it. A chain
/// that cannot carry UDP gets the client a refusal (REP 0x07 when a hop cannot do UDP).
awaitable<void> serve_udp_associate(transport::Stream& client,
                                    const proto::SocksServerHandshake& codec, std::string who,
                                    const Config& config, chain::Services& services);

}  // namespace hc::app
