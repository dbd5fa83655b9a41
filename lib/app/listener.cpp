/// Listening sockets shared by forward and socks mode.
#include "app/listener.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log/log.hpp"
#include "transport/own_endpoints.hpp"

namespace hc::app {

namespace {

/// A socket opened and bound to `endpoint` the way every listener is (dual-stack for `*`,
/// SO_REUSEADDR so that TIME_WAIT leftovers do not block a restart), not yet listening.
void open_and_bind(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool dual_stack,
                   bool reuse_port, std::error_code& ec) {
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && dual_stack) {
    // `*` means IPv4 too: a dual-stack socket rather than two listeners.
    acceptor.set_option(asio::ip::v6_only(false), ec);
  }
  if (!ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec && reuse_port) {
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
}

}  // namespace

tcp::acceptor open_listener(const asio::any_io_executor& ex, const proto::HostPort& listen,
                            std::error_code& ec, PortSharing sharing) {
  tcp::acceptor acceptor(ex);
  ec.clear();
  asio::ip::address address = asio::ip::address_v6::any();
  if (!listen.host.empty()) {
    address = asio::ip::make_address(listen.host, ec);
    if (ec) {
      return acceptor;
    }
  }
  const tcp::endpoint endpoint(address, listen.port);
  const bool dual_stack = listen.host.empty();
  if (sharing == PortSharing::first) {
    // A plain bind fails while anyone listens there, SO_REUSEPORT or not.
    tcp::acceptor probe(ex);
    open_and_bind(probe, endpoint, dual_stack, false, ec);
    std::error_code ignored;
    probe.close(ignored);
    if (ec) {
      return acceptor;
    }
  }
  open_and_bind(acceptor, endpoint, dual_stack, sharing != PortSharing::exclusive, ec);
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    // Chains that would come back here are refused (a proxy loop): see own_endpoints.hpp.
    const tcp::endpoint bound = acceptor.local_endpoint(ec);
    if (!ec) {
      transport::register_own_listener(bound);
    }
  }
  if (ec) {
    std::error_code ignored;
    acceptor.close(ignored);
  }
  return acceptor;
}

std::string listen_text(const proto::HostPort& listen) {
  return listen.host.empty() ? "*:" + std::to_string(listen.port) : listen.to_string();
}

void log_task_end(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error(std::string("connection ended by an internal error: ") + ex.what());
  }
}

bool is_resource_shortage(const std::error_code& ec) {
  // Asio reports socket errors in its own system category (same errno values).
  if (ec.category() != std::system_category() &&
      ec.category() != asio::error::get_system_category()) {
    return false;
  }
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

namespace {

std::string seconds_text(AcceptBackoff::Clock::duration d) {
  const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

AcceptBackoff::Step AcceptBackoff::on_shortage(const std::error_code& ec, Clock::time_point now) {
  Step step{pause_, std::nullopt};
  pause_ = std::min(pause_ * 2, std::chrono::milliseconds(max_pause));
  if (!short_) {
    short_ = true;
    announced_ = false;
    since_ = now;
    failures_ = 0;
  }
  ++failures_;
  // The interval holds across shortages too: a listener flapping at the limit (one descriptor
  // freed, one connection accepted, out again) must not log two lines per connection.
  if (has_logged_ && now - last_log_ < log_interval) {
    ++quiet_failures_;
    return step;
  }
  if (!announced_) {
    step.log_line = "accept: " + ec.message() + "; pausing accepts until resources free up";
    if (quiet_failures_ > 0) {
      step.log_line->append(" (" + std::to_string(quiet_failures_) +
                            " more failed attempts since the last message)");
    }
  } else {
    step.log_line = "accept still failing after " + seconds_text(now - since_) + ": " +
                    ec.message() + " (" + std::to_string(quiet_failures_ + 1) +
                    " failed attempts since the last message)";
  }
  announced_ = true;
  has_logged_ = true;
  last_log_ = now;
  quiet_failures_ = 0;
  return step;
}

std::optional<std::string> AcceptBackoff::on_success(Clock::time_point now) {
  if (!short_) {
    return std::nullopt;
  }
  short_ = false;
  pause_ = first_pause;
  if (!announced_) {
    return std::nullopt;  // a brief shortage inside the log interval: counted, not logged
  }
  last_log_ = now;
  quiet_failures_ = 0;
  return "accepting again after " + seconds_text(now - since_) + " (" + std::to_string(failures_) +
         " failed attempts)";
}

namespace {

std::atomic<std::size_t> live_connections{0};

void connection_ended(std::exception_ptr e) {
  log_task_end(e);
  if (live_connections.fetch_sub(1) == 1) {
    // The last connection is gone. glibc keeps the memory freed by thousands of relays and
    // handshakes in its heaps (it returns to the system only what sits at a heap's top), so an
    // idle listener would stay at its peak size: hand it back now. Cheap on an idle heap.
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
}

}  // namespace

awaitable<void> accept_connections(tcp::acceptor acceptor, std::string label,
                                   ConnectionHandler serve) {
  const auto ex = co_await asio::this_coro::executor;
  AcceptBackoff backoff;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    const auto now = AcceptBackoff::Clock::now();
    if (!ec) {
      if (auto line = backoff.on_success(now)) {
        log::info(label + ": " + *line);
      }
      ++live_connections;
      asio::co_spawn(ex, serve(std::move(socket)), connection_ended);
      continue;
    }
    if (ec == asio::error::connection_aborted) {
      continue;  // the client gave up while queued: nothing to retry
    }
    std::chrono::milliseconds pause{100};
    if (is_resource_shortage(ec)) {
      // The pending connection stays queued and the listener stays readable: without this
      // pause the loop would spin until a descriptor (or buffer) is freed.
      auto step = backoff.on_shortage(ec, now);
      pause = step.pause;
      if (step.log_line) {
        log::error(label + ": " + *step.log_line);
      }
    } else {
      log::error(label + ": accept: " + ec.message());
    }
    asio::steady_timer timer(ex, pause);
    co_await timer.async_wait(nothrow);
  }
}

}  // namespace hc::app
