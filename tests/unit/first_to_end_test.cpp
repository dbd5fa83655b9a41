/// first_to_end: the first task to return wins and the others are cancelled and have ended
/// before it returns; a task that throws does not win; cancelling the caller (here: running it
/// as a task of another first_to_end) cancels its tasks and still waits for them.
#include "transport/first_to_end.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

using asio::awaitable;
using hc::transport::first_to_end;
using hc::transport::Task;
using namespace std::chrono_literals;

namespace {

using Events = std::vector<std::string>;

/// Waits `delay` (forever: a day), then notes `name` as returned, or as cancelled.
awaitable<void> sleeper(Events& events, std::string name, std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  auto [ec] = co_await timer.async_wait(hc::nothrow);
  events.push_back(name + (ec ? " cancelled" : " returned"));
}

/// Sleepers by name and delay.
std::vector<Task> sleepers(
    Events& events, const std::vector<std::pair<std::string, std::chrono::milliseconds>>& plan) {
  std::vector<Task> tasks;
  for (const auto& [name, delay] : plan) {
    tasks.emplace_back([&events, name, delay] { return sleeper(events, name, delay); });
  }
  return tasks;
}

awaitable<void> thrower(Events& events) {
  events.push_back("thrower");
  throw std::runtime_error("boom");
  co_return;
}

/// Runs `body` to its end on a fresh io_context (bounded in time).
template <typename F>
void run(F body) {
  asio::io_context io;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await body();
        done = true;
      },
      asio::detached);
  io.run_for(5s);
  BOOST_TEST(done);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(first_to_end_tasks)

BOOST_AUTO_TEST_CASE(the_first_to_return_wins_and_the_others_end_before_the_call_returns) {
  Events events;
  std::size_t first = 9;
  run([&]() -> awaitable<void> {
    const std::vector<Task> tasks =
        sleepers(events, {{"slow", 24h}, {"quick", 10ms}, {"also slow", 24h}});
    first = co_await first_to_end(tasks);
    events.push_back("call returned");
  });
  BOOST_TEST(first == 1u);
  const Events expected{"quick returned", "slow cancelled", "also slow cancelled", "call returned"};
  BOOST_TEST(events == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_task_that_throws_does_not_win) {
  Events events;
  std::size_t first = 9;
  run([&]() -> awaitable<void> {
    std::vector<Task> tasks;
    tasks.emplace_back([&] { return thrower(events); });
    tasks.emplace_back([&] { return sleeper(events, "quick", 10ms); });
    first = co_await first_to_end(tasks);
  });
  BOOST_TEST(first == 1u);
}

BOOST_AUTO_TEST_CASE(when_every_task_throws_the_first_exception_is_rethrown) {
  Events events;
  std::string caught;
  run([&]() -> awaitable<void> {
    std::vector<Task> tasks;
    tasks.emplace_back([&] { return thrower(events); });
    tasks.emplace_back([&] { return thrower(events); });
    try {
      co_await first_to_end(tasks);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  });
  BOOST_TEST(caught == "boom");
}

BOOST_AUTO_TEST_CASE(a_cancelled_caller_cancels_its_tasks_and_waits_for_them) {
  Events events;
  std::size_t outer = 9;
  bool saw_cancelled = false;
  run([&]() -> awaitable<void> {
    const Task inner = [&]() -> awaitable<void> {
      const std::vector<Task> tasks = sleepers(events, {{"inner a", 24h}, {"inner b", 24h}});
      co_await first_to_end(tasks);
      events.push_back("inner returned");
      const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
      saw_cancelled = state.cancelled() != asio::cancellation_type::none;
    };
    std::vector<Task> tasks;
    tasks.emplace_back(inner);
    tasks.emplace_back([&] { return sleeper(events, "quick", 10ms); });
    outer = co_await first_to_end(tasks);
    events.push_back("outer returned");
  });
  BOOST_TEST(outer == 1u);
  const Events expected{"quick returned", "inner a cancelled", "inner b cancelled",
                        "inner returned", "outer returned"};
  BOOST_TEST(events == expected, boost::test_tools::per_element());
  BOOST_TEST(saw_cancelled);
}

// As with `||`: a task sees the cancellation before anything queued meanwhile runs (here: the
// end of its own wait), not once its caller has woken up.
BOOST_AUTO_TEST_CASE(a_cancelled_caller_cancels_its_tasks_at_once) {
  Events events;
  run([&]() -> awaitable<void> {
    asio::steady_timer gate(co_await asio::this_coro::executor,
                            asio::steady_timer::time_point::max());
    const Task inner = [&]() -> awaitable<void> {
      std::vector<Task> tasks;
      tasks.emplace_back([&]() -> awaitable<void> {
        co_await gate.async_wait(hc::nothrow);
        const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        events.push_back(state.cancelled() != asio::cancellation_type::none ? "cancelled"
                                                                            : "not cancelled");
      });
      co_await first_to_end(tasks);
    };
    const Task opens_the_gate_and_returns = [&]() -> awaitable<void> {
      asio::steady_timer pause(co_await asio::this_coro::executor, 10ms);
      co_await pause.async_wait(hc::nothrow);
      gate.cancel();
    };
    const std::vector<Task> tasks{inner, opens_the_gate_and_returns};
    co_await first_to_end(tasks);
  });
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0] == "cancelled");
}

BOOST_AUTO_TEST_SUITE_END()
