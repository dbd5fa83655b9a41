/// The local SOCKS server's answer to BIND (SOCKS5 CMD 0x02, SOCKS4 CD 2): the request is carried
/// to the chain's last hop with the client's DST as the expected peer, the hop's two replies
/// (where it listens; who connected) are passed on to the client, then the peer's connection is
/// relayed. A chain whose last hop cannot BIND gets REP 0x07 (SOCKS4: CD 0x5B), naming the hop.
#pragma once

#include <string>

#include "app/config.hpp"
#include "app/stats.hpp"
#include "chain/services.hpp"
#include "proto/socks_server.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// `codec` has completed a BIND request on `client`; answers it and serves it. `what` names the
/// request in log lines ("socks client 127.0.0.1:40000: SOCKS5 BIND 192.0.2.7:0"). The wait for
/// the peer is bounded by config.accept_timeout, and ends early if the client hangs up.
awaitable<void> serve_socks_bind(transport::Stream& client,
                                 const proto::SocksServerHandshake& codec, const std::string& what,
                                 const Config& config, chain::Services& services,
                                 ServerStats& totals);

}  // namespace hc::app
