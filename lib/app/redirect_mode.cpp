/// `hopchain redirect [--udp] [BIND:]PORT`: the redsocks role. The system's own firewall sends
/// connections (nftables `redirect`, iptables REDIRECT) and, with --udp, datagrams (`tproxy`,
/// TPROXY) to this port; each goes through the chain to the destination it was sent to
/// (captured_tcp.hpp, captured_udp.hpp).
#include <cerrno>
#include <string>
#include <utility>

#include "app/captured_tcp.hpp"
#include "app/captured_udp.hpp"
#include "app/listener.hpp"
#include "app/modes.hpp"
#include "capture/udp_tproxy.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

/// The UDP socket on the TCP listener's address and port; `*` is every address, both families.
capture::UdpEndpoint udp_listen(const tcp::endpoint& bound, const proto::HostPort& listen) {
  if (listen.host.empty()) {
    return {asio::ip::address_v6::any(), bound.port()};
  }
  return {bound.address(), bound.port()};
}

/// Starts serving --udp; false (logged) when the socket cannot be made.
bool start_udp(const asio::any_io_executor& ex, const Config& config, const tcp::endpoint& bound,
               const std::string& label, chain::Services& services, ServerStats& totals,
               UdpTotals& udp_totals) {
  std::error_code ec;
  auto socket = capture::open_udp_tproxy(ex, udp_listen(bound, config.redirect_listen), ec);
  if (ec) {
    const bool privilege = ec.value() == EPERM || ec.value() == EACCES;
    log::error(label + ": cannot take tproxy'd UDP datagrams: " + ec.message() +
               (privilege ? " (IP_TRANSPARENT needs CAP_NET_ADMIN: run as root, or give the "
                            "binary the capability with setcap cap_net_admin+ep; or leave out "
                            "--udp)"
                          : ""));
    return false;
  }
  CaptureUdpFront front;
  front.label = label;
  front.idle_timeout = config.udp_timeout;
  front.max_flows = config.udp_max_sources;
  asio::co_spawn(ex,
                 serve_captured_udp(std::move(socket), std::move(front), services, totals,
                                    udp_totals.datagrams),
                 log_task_end);
  udp_totals.serving = true;
  return true;
}

}  // namespace

awaitable<int> run_redirect(const Config& config, chain::Services& services, ServerStats& totals,
                            UdpTotals& udp_totals) {
  const auto ex = co_await asio::this_coro::executor;
  std::error_code ec;
  tcp::acceptor acceptor = open_listener(ex, config.redirect_listen, ec);
  if (ec) {
    log::error("redirect: cannot listen on " + listen_text(config.redirect_listen) + ": " +
               ec.message());
    co_return 1;
  }
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  const std::string label = "redirect " + listen_text(config.redirect_listen);
  if (config.redirect_udp && !start_udp(ex, config, bound, label, services, totals, udp_totals)) {
    co_return 1;
  }
  log::verbose(label + ": listening for redirected connections" +
               (config.redirect_udp ? std::string(" and tproxy'd datagrams") : std::string()));
  // A named operand: GCC 12 would destroy a temporary CaptureFront twice on shutdown.
  CaptureFront front{label, {}};
  co_await serve_captured_tcp(std::move(acceptor), std::move(front), services, totals);
  co_return 1;
}

}  // namespace hc::app
