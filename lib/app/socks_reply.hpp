/// Which SOCKS5 REP tells a local client why its tunnel could not be opened, and how it is told.
#pragma once

#include <cstdint>
#include <string>

#include "chain/chain_error.hpp"
#include "proto/socks_server.hpp"
#include "transport/stream.hpp"

namespace hc::app {

/// The REP a hop gave when the failure is one (so a client sees "connection refused" from the
/// far end of the chain); for a direct connection, the RFC 1928 code matching the network error
/// (refused 0x05, host unreachable or unknown name 0x04, network unreachable 0x03, timeout 0x06);
/// otherwise general failure 0x01. SOCKS4 clients get CD 0x5B whatever this is.
std::uint8_t socks5_reply_for(const chain::ChainError& error);

/// Refuses a client's request: logs `line` with the answer ("; answered REP 0x07", or CD 0x5B
/// for SOCKS4), writes the answer `rep` in the client's version, then closes.
awaitable<void> refuse_request(transport::Stream& client, const proto::SocksServerHandshake& codec,
                               const std::string& line, std::uint8_t rep);

}  // namespace hc::app
