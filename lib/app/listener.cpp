/// Listening sockets shared by forward and socks mode.
#include "app/listener.hpp"

#include "log/log.hpp"

namespace hc::app {

tcp::acceptor open_listener(const asio::any_io_executor& ex, const proto::HostPort& listen,
                            std::error_code& ec, bool share_port) {
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
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && listen.host.empty()) {
    // `*` means IPv4 too: a dual-stack socket rather than two listeners.
    acceptor.set_option(asio::ip::v6_only(false), ec);
  }
  if (!ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec && share_port) {
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
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

}  // namespace hc::app
