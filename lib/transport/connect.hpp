/// Opening the first TCP connection of a chain: resolve (c-ares) and try every address in turn.
#pragma once

#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "transport/asio.hpp"

namespace hc::transport {

/// Connects `socket` to the first of `addresses` that accepts, each attempt bounded by `timeout`.
/// Returns the last attempt's error if none does.
awaitable<std::error_code> connect_any(tcp::socket& socket,
                                       std::vector<asio::ip::address> addresses, std::uint16_t port,
                                       std::chrono::steady_clock::duration timeout);

}  // namespace hc::transport
