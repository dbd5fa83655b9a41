#include "app/exec_udp.hpp"

#include <cerrno>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/listener.hpp"
#include "capture/nft_rules.hpp"
#include "capture/reply_helper.hpp"
#include "capture/rtnetlink.hpp"
#include "capture/udp_tproxy.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

/// The mark of captured datagrams, and the routing table that delivers them locally ("hc").
constexpr std::uint32_t kMark = 0x6863;
constexpr std::uint32_t kTable = 0x6863;

/// The ip rules and local routes, IPv6's skipped when the kernel has none.
std::string route_marked_datagrams_in() {
  for (const int family : {AF_INET, AF_INET6}) {
    const char* name = family == AF_INET ? "IPv4" : "IPv6";
    if (const std::error_code ec = capture::add_fwmark_rule(family, kMark, kTable)) {
      if (family == AF_INET6 && ec.value() == EAFNOSUPPORT) {
        break;
      }
      return std::string("UDP capture: ") + name + " rule fwmark " + std::to_string(kMark) +
             " lookup " + std::to_string(kTable) + ": " + ec.message();
    }
    if (const std::error_code ec = capture::add_local_default_route(family, kTable)) {
      return std::string("UDP capture: ") + name + " local default route in table " +
             std::to_string(kTable) + ": " + ec.message();
    }
  }
  return {};
}

/// The tproxy target: one socket for both families ([::], dual-stack) where IPv6 exists.
int open_tproxy_socket() {
  const int fd = capture::open_udp_tproxy_fd(UdpEndpoint(asio::ip::udp::v6(), 0));
  return fd != -EAFNOSUPPORT ? fd
                             : capture::open_udp_tproxy_fd(UdpEndpoint(asio::ip::udp::v4(), 0));
}

std::uint16_t bound_port(int fd) {
  UdpEndpoint bound(asio::ip::udp::v6(), 0);
  socklen_t size = static_cast<socklen_t>(bound.capacity());
  ::getsockname(fd, bound.data(), &size);
  bound.resize(size);
  return bound.port();
}

/// Reply sockets made by the helper in the namespace, wrapped for this process's loop.
ReplySocketMaker reply_sockets(std::shared_ptr<capture::ReplySocketHelper> helper,
                               const asio::any_io_executor& ex) {
  return [helper = std::move(helper), ex](const UdpEndpoint& destination, std::error_code& ec) {
    return capture::adopt_udp_socket(ex, destination.protocol(), helper->open(destination), ec);
  };
}

}  // namespace

void plan_exec_udp(capture::NamespacePlan& plan) {
  const std::size_t first = plan.extra_sockets.size();
  plan.extra_setup = [] { return route_marked_datagrams_in(); };
  plan.extra_sockets.push_back([] { return open_tproxy_socket(); });
  plan.extra_sockets.push_back([] { return capture::start_reply_helper(); });
  auto earlier = std::move(plan.extra_rules);
  plan.extra_rules = [first, earlier](const std::vector<int>& fds) {
    const std::string own_v4 = capture::namespace_address_v4().to_string();
    const std::string own_v6 = capture::namespace_address_v6().to_string();
    return (earlier ? earlier(fds) : std::string()) +
           capture::udp_capture_rules(bound_port(fds.at(first)), kMark, own_v4, own_v6);
  };
}

void serve_exec_udp(const Config& config, std::vector<int> sockets, CapturedUdpTarget target,
                    chain::Services& services, UdpTotals& udp_totals,
                    const asio::any_io_executor& ex) {
  std::error_code ec;
  auto helper = capture::ReplySocketHelper::connect(sockets.at(1), ec);
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  ::getsockname(sockets.at(0), reinterpret_cast<sockaddr*>(&local), &size);
  asio::ip::udp::socket capture(
      ex, local.ss_family == AF_INET6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), sockets.at(0));
  if (!helper) {
    log::error("exec: the helper that answers UDP did not start (" + ec.message() +
               "): datagrams from the command are dropped");
    return;  // `capture` closes the socket: the datagrams meet a closed port
  }
  CaptureUdpFront front;
  front.label = "exec";
  front.target = std::move(target);
  front.reply_socket = reply_sockets(std::move(helper), ex);
  front.idle_timeout = config.udp_timeout;
  front.max_flows = config.udp_max_sources;
  // Owned by the function object for as long as the task runs, not by a coroutine's
  // parameters: GCC 12 destroys those twice when the loop is torn down before the task starts.
  auto owned_socket = std::make_shared<asio::ip::udp::socket>(std::move(capture));
  auto owned_front = std::make_shared<CaptureUdpFront>(std::move(front));
  asio::co_spawn(
      ex,
      [owned_socket, owned_front, &services, &udp_totals]() -> awaitable<void> {
        co_await serve_captured_udp(std::move(*owned_socket), std::move(*owned_front), services,
                                    udp_totals.captured_flows, udp_totals.datagrams);
      },
      log_task_end);
  // The datagram totals at exit, for -v and --stats only: a program's run must not end with a
  // line about UDP it may not know it sent.
  udp_totals.serving = config.stats || log::enabled(log::Level::verbose);
}

}  // namespace hc::app
