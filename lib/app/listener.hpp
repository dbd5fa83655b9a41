/// Listening sockets and per-connection task hygiene shared by the front ends that accept
/// connections (forward, socks).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// Whether a listener shares its port with the other event loops of this process.
enum class PortSharing : std::uint8_t {
  exclusive,  ///< one listener per port
  /// SO_REUSEPORT, first of this process's listeners on the port. The kernel lets any process of
  /// the same user join such a port and take a share of its connections, so the port is first
  /// checked free (a plain bind): a port in use fails with "address already in use".
  first,
  join,  ///< SO_REUSEPORT, joining the listener that `first` opened
};

/// Opens, binds and listens on `listen`: an IP literal, or host "" (written `*`) for every
/// address, IPv6 and IPv4. On failure `ec` is set and the acceptor is closed. The bound
/// endpoint joins this process's own (transport/own_endpoints.hpp): chains to it are refused.
tcp::acceptor open_listener(const asio::any_io_executor& ex, const proto::HostPort& listen,
                            std::error_code& ec, PortSharing sharing = PortSharing::exclusive);

/// "127.0.0.1:1080", "[::1]:1080", or "*:1080" for every address.
std::string listen_text(const proto::HostPort& listen);

/// The co_spawn completion handler of a connection's task: an exception ends that connection
/// only, and is logged rather than dropped.
void log_task_end(std::exception_ptr e);

/// True for the accept errors that mean "no resources now" (EMFILE, ENFILE, ENOBUFS, ENOMEM):
/// the pending connection stays in the kernel backlog, so the listener stays readable and an
/// immediate retry would spin.
bool is_resource_shortage(const std::error_code& ec);

/// When to retry accept() during a resource shortage, and what to log about it. Pauses start at
/// 50 ms and double up to 1 s, and start again at 50 ms after a successful accept. At most one
/// line per 10 s: when a shortage starts, while it lasts (with how many failures it kept quiet),
/// and when accepting works again; a shortage that starts and ends within the interval of the
/// last line is only counted. Pure: the caller passes the time.
class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds first_pause{50};
  static constexpr std::chrono::milliseconds max_pause{1000};
  static constexpr std::chrono::seconds log_interval{10};

  struct Step {
    std::chrono::milliseconds pause;
    std::optional<std::string> log_line;  // without the listener's label
  };

  /// A failed accept for lack of resources.
  Step on_shortage(const std::error_code& ec, Clock::time_point now);
  /// A successful accept: ends a shortage, if there was one, with the line that says so.
  std::optional<std::string> on_success(Clock::time_point now);

 private:
  bool short_ = false;      // the last accept failed for lack of resources
  bool announced_ = false;  // this shortage has been logged
  bool has_logged_ = false;
  std::chrono::milliseconds pause_{first_pause};
  Clock::time_point since_{};
  Clock::time_point last_log_{};
  std::uint64_t failures_ = 0;        // in this shortage
  std::uint64_t quiet_failures_ = 0;  // since the last line logged
};

/// The task that serves one accepted connection.
using ConnectionHandler = std::function<awaitable<void>(tcp::socket)>;

/// Accepts connections on `acceptor` and runs `serve` on each as a task of its own (an exception
/// ends that connection only, and is logged), until the acceptor is closed or the io_context
/// stops. Never gives up on an accept error and never spins: a resource shortage backs off
/// (AcceptBackoff), other errors are logged and retried after a short pause. `label` names the
/// listener in log lines ("forward 127.0.0.1:8080").
awaitable<void> accept_connections(tcp::acceptor acceptor, std::string label,
                                   ConnectionHandler serve);

}  // namespace hc::app
