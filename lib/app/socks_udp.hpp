/// The local SOCKS server's answer to SOCKS5 UDP ASSOCIATE: an association through the chain
/// (directly with no hop), a UDP socket for the client, the grant naming it, then datagrams both
/// ways until the client's TCP connection closes.
#pragma once

#include <string>

#include "app/config.hpp"
#include "chain/open_chain.hpp"
#include "proto/socks_server.hpp"
#include "transport/asio.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// `codec` has completed a UDP ASSOCIATE request on `client`; answers it and serves it. A chain
/// that cannot carry UDP gets the client a refusal (REP 0x07 when a hop cannot do UDP).
awaitable<void> serve_udp_associate(transport::Stream& client,
                                    const proto::SocksServerHandshake& codec, std::string who,
                                    const Config& config, chain::Services& services);

}  // namespace hc::app
