/// "Run these side by side until one of them returns" without Asio's parallel group. Asio 1.22's
/// awaitable `||` misbehaves when a group waits inside a branch of another group (see
/// readiness_wait.hpp), and `a || b || c` is such a nesting by construction. Here each task is a
/// coroutine of its own with its own cancellation signal, and the caller waits on a timer: no
/// parallel group anywhere, so a first_to_end may run inside a task of another one.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "transport/asio.hpp"

namespace hc::transport {

/// Starts one task's coroutine. What it references must outlive the first_to_end call.
using Task = std::function<awaitable<void>()>;

/// Runs every task (at least one) until the first one returns, then cancels the others as `||`
/// would (a terminal cancellation) and returns the index of that first one once every task has
/// ended: no task outlives the call. A task that throws does not stop the others; when they all
/// throw, the first exception is rethrown. Cancelling the caller cancels every task at once, and
/// the call still waits for them all (the caller then sees itself cancelled, as after `||`).
awaitable<std::size_t> first_to_end(std::span<const Task> tasks);

}  // namespace hc::transport
