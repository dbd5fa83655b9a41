#include "app/exec_mode.hpp"

#include <chrono>
#include <sys/wait.h>
#include <unistd.h>

#include "app/captured_tcp.hpp"
#include "app/exec_dns.hpp"
#include "app/exec_udp.hpp"
#include "app/listener.hpp"
#include "app/signal_forwarding.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

/// How long tunnels still open when the command exits get to finish (its children may hold
/// some; the far end may still be reading what it sent).
constexpr std::chrono::milliseconds kDrainTime{2000};
constexpr std::chrono::milliseconds kDrainPoll{10};

/// The exit status a shell would report for a child's wait status.
int shell_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

/// Waits until the command exits (its pidfd turns readable), then reaps it. Without a pidfd
/// (a kernel before 5.3) it polls.
awaitable<int> wait_for_exit(capture::CaptureNamespace& space) {
  const auto ex = co_await asio::this_coro::executor;
  int status = 0;
  if (space.pidfd() >= 0) {
    // A dup: the stream descriptor closes what it holds, and the namespace owns the pidfd.
    asio::posix::stream_descriptor pidfd(ex, ::dup(space.pidfd()));
    co_await pidfd.async_wait(asio::posix::descriptor_base::wait_read, nothrow);
  }
  asio::steady_timer timer(ex);
  while (::waitpid(space.pid(), &status, WNOHANG) == 0) {
    timer.expires_after(kDrainPoll);
    co_await timer.async_wait(nothrow);
  }
  co_return shell_status(status);
}

/// Lets the open tunnels end by themselves, for kDrainTime at most.
awaitable<void> drain(const ServerStats& totals) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + kDrainTime;
  while (totals.open() > 0 && std::chrono::steady_clock::now() < until) {
    timer.expires_after(kDrainPoll);
    co_await timer.async_wait(nothrow);
  }
}

void serve_listeners(const std::vector<int>& listeners, const CapturedTarget& target,
                     chain::Services& services, ServerStats& totals,
                     const asio::any_io_executor& ex) {
  for (const int fd : listeners) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    const tcp protocol = address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
    asio::co_spawn(
        ex, serve_captured_tcp(tcp::acceptor(ex, protocol, fd), {"exec", target}, services, totals),
        log_task_end);
  }
}

/// The TCP capture's mapper (fake DNS addresses to names) for datagrams.
CapturedUdpTarget udp_target(CapturedTarget tcp_target) {
  return [tcp_target = std::move(tcp_target)](const UdpEndpoint& destination) {
    return tcp_target(tcp::endpoint(destination.address(), destination.port()));
  };
}

}  // namespace

Result<capture::CaptureNamespace, int> start_exec_namespace(const Config& config) {
  // --dns chain needs a resolver; fake needs one only for types other than A and AAAA.
  if (auto upstream = exec_dns_upstream(config); !upstream) {
    if (config.exec_dns == ExecDns::chain) {
      log::error("exec: --dns chain: " + upstream.error());
      return failure(2);
    }
    log::info("exec: DNS queries other than A and AAAA will fail: " + upstream.error());
  }
  capture::NamespacePlan plan;
  plan.argv = config.exec_argv;
  if (auto planned = plan_exec_dns(plan); !planned) {
    log::error("exec: " + planned.error());
    return failure(2);
  }
  if (config.exec_udp) {
    plan_exec_udp(plan);
  }
  auto space = capture::CaptureNamespace::start(plan);
  // Mounted in the namespace by now (or never to be): the mount holds the file's content.
  ::unlink(plan.resolv_conf.c_str());
  if (!space) {
    log::error("exec: " + capture::describe(space.error(), capture::read_userns_settings()));
    return failure(capture::exit_status(space.error()));
  }
  return std::move(*space);
}

awaitable<int> run_exec(const Config& config, capture::CaptureNamespace& space,
                        chain::Services& services, ServerStats& totals, UdpTotals& udp_totals) {
  const auto ex = co_await asio::this_coro::executor;
  auto upstream = exec_dns_upstream(config);  // checked (and said) by start_exec_namespace
  const std::vector<int> listeners = space.take_tcp_listeners();
  // The DNS stub's sockets first (plan_exec_dns), then the UDP capture's (plan_exec_udp).
  std::vector<int> extra = space.take_extra_sockets();
  const auto stub_end =
      extra.begin() + std::min<std::ptrdiff_t>(kDnsStubSockets, std::ssize(extra));
  std::vector<int> udp(stub_end, extra.end());
  extra.erase(stub_end, extra.end());
  const CapturedTarget target =
      serve_exec_dns(config, upstream ? *upstream : proto::HostPort{}, std::move(extra),
                     listeners.size() > 1, services, ex);
  serve_listeners(listeners, target, services, totals, ex);
  if (config.exec_udp) {
    serve_exec_udp(config, std::move(udp), udp_target(target), services, udp_totals, ex);
  }
  // Installed before the go: a signal from now on is the command's to handle.
  SignalForwarding forwarding(space.pidfd());
  if (auto started = space.start_command(); !started) {
    log::error("exec: " + capture::describe(started.error(), {}));
    co_return capture::exit_status(started.error());
  }
  log::verbose("exec: started " + config.exec_argv.front() + " (pid " +
               std::to_string(space.pid()) + ") in its own network namespace");
  const int status = co_await wait_for_exit(space);
  co_await drain(totals);
  co_return status;
}

}  // namespace hc::app
