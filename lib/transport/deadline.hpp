/// The one timeout mechanism for connects and handshakes: race a non-throwing operation against a
/// timer that, on expiry, closes the TCP socket under every layer. Closing (rather than only
/// cancelling) fails whatever is pending at any depth, a TLS handshake inside a tunnel included.
#pragma once

#include <chrono>
#include <optional>
#include <variant>

#include "transport/asio.hpp"

namespace hc::transport {

/// Waits `timeout`, then closes `bottom`. Returns quietly if cancelled first.
awaitable<void> close_after(tcp::socket& bottom, std::chrono::steady_clock::duration timeout);

/// Runs `op`; returns its result, or nullopt if `timeout` passed first (`bottom` is then closed).
/// `op` must not throw: `||` waits for the first *successful* branch.
template <typename T>
awaitable<std::optional<T>> with_deadline(tcp::socket& bottom,
                                          std::chrono::steady_clock::duration timeout,
                                          awaitable<T> op) {
  using namespace asio::experimental::awaitable_operators;
  auto result = co_await (std::move(op) || close_after(bottom, timeout));
  if (result.index() == 0) {
    co_return std::move(std::get<0>(result));
  }
  co_return std::nullopt;
}

}  // namespace hc::transport
