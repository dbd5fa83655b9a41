#include "app/captured_tcp.hpp"

#include <memory>
#include <utility>

#include "app/accepted_tunnel.hpp"
#include "capture/original_destination.hpp"
#include "log/log.hpp"
#include "transport/own_endpoints.hpp"

namespace hc::app {
namespace {

/// An IPv4 client of a listener on every address (`*`) is IPv4-mapped; shown as IPv4.
std::string endpoint_text(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return proto::HostPort{address.to_string(), endpoint.port()}.to_string();
}

/// A reset rather than a FIN: the program sees "connection refused/reset", not a clean end.
void reset(tcp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

/// Where the accepted connection was going, as the chain should be asked for it; nullopt (after
/// logging why) when it must be refused.
std::optional<proto::HostPort> captured_target(tcp::socket& accepted, const CaptureFront& front,
                                               const std::string& who) {
  auto destination = capture::original_destination(accepted.native_handle());
  if (!destination) {
    log::error(who + ": no original destination (" + destination.error().message() +
               "): not a redirected connection; refused");
    return std::nullopt;
  }
  std::error_code ec;
  const tcp::endpoint accepted_at = accepted.local_endpoint(ec);
  // The accepted socket's own address, or any listener of this process (one on `*` is reached
  // at the host's other addresses too).
  if ((!ec && capture::is_own_listener(*destination, accepted_at)) ||
      transport::is_own_listener(*destination)) {
    log::error(who + ": the destination " + endpoint_text(*destination) +
               " is this listener itself (a loop); refused");
    return std::nullopt;
  }
  if (front.target) {
    return front.target(*destination);
  }
  return proto::HostPort{destination->address().to_string(), destination->port()};
}

/// `front` is shared: a connection may outlive the accept loop that started it.
awaitable<void> serve_one(tcp::socket accepted, std::shared_ptr<const CaptureFront> front,
                          const chain::Services& shared, ServerStats& totals) {
  chain::Services services = shared;
  services.log_tag = log::next_connection_tag();
  std::error_code ignored;
  const tcp::endpoint peer = accepted.remote_endpoint(ignored);
  std::string who = services.log_tag + front->label + ": tcp " + endpoint_text(peer);
  const std::optional<proto::HostPort> target = captured_target(accepted, *front, who);
  if (!target) {
    reset(accepted);
    co_return;
  }
  who += " -> " + target->to_string();
  log::verbose(who);
  co_await tunnel_accepted(std::move(accepted), who, *target, std::move(services), totals);
}

}  // namespace

awaitable<void> serve_captured_tcp(tcp::acceptor acceptor, CaptureFront front,
                                   chain::Services& services, ServerStats& totals) {
  // Not a coroutine: GCC 12 destroys a co_await operand's non-trivial temporaries (this
  // lambda and its shared_ptr) a second time when the frame is destroyed while suspended.
  auto shared_front = std::make_shared<const CaptureFront>(std::move(front));
  std::string label = shared_front->label;
  return accept_connections(std::move(acceptor), std::move(label),
                            [shared_front, &services, &totals](tcp::socket socket) {
                              return serve_one(std::move(socket), shared_front, services, totals);
                            });
}

}  // namespace hc::app
