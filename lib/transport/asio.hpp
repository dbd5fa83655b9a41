/// The one place that includes Asio and knows its version. Debian 12 ships Asio 1.22, where
/// as_tuple and the awaitable operators still live in asio::experimental.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace hc {

/// Completion token for coroutines that want (error_code, ...) instead of exceptions.
inline constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

using asio::awaitable;
using tcp = asio::ip::tcp;

}  // namespace hc
