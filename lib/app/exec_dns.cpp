#include "app/exec_dns.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/dns_stub.hpp"
#include "app/listener.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

/// systemd-resolved's address: programs that special-case it (and people) recognise it.
constexpr std::uint32_t kStubAddress = 0x7f000035;  // 127.0.0.53
constexpr std::uint16_t kStubPort = 53;

/// A socket bound to the stub's address in the namespace (the child still holds
/// CAP_NET_BIND_SERVICE there), close-on-exec; the fd or -errno.
int open_stub_socket(int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -errno;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(kStubAddress);
  address.sin_port = htons(kStubPort);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, SOMAXCONN) != 0)) {
    const int error = errno;
    ::close(fd);
    return -error;
  }
  return fd;
}

std::string read_host_resolv_conf() {
  std::ifstream in("/etc/resolv.conf");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

Result<proto::HostPort> exec_dns_upstream(const Config& config) {
  return dns_upstream(config.dns_servers, read_host_resolv_conf(), !config.hops.empty());
}

Result<void> plan_exec_dns(capture::NamespacePlan& plan) {
  const char* dir = std::getenv("TMPDIR");
  std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/hopchain-resolv.XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    return failure("cannot create the namespace's resolv.conf in " + path + ": " +
                   std::generic_category().message(errno));
  }
  const std::string text = namespace_resolv_conf(asio::ip::address_v4(kStubAddress));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  // Readable by all: the command may run as a user the file's owner is not mapped to.
  ::fchmod(fd, 0644);
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return failure("cannot write the namespace's resolv.conf " + path);
  }
  plan.resolv_conf = path;
  plan.extra_sockets.push_back([] { return open_stub_socket(SOCK_DGRAM); });
  plan.extra_sockets.push_back([] { return open_stub_socket(SOCK_STREAM); });
  return {};
}

CapturedTarget serve_exec_dns(const Config& config, const proto::HostPort& upstream,
                              std::vector<int> sockets, bool ipv6, chain::Services& services,
                              const asio::any_io_executor& ex) {
  auto pool = std::make_shared<capture::FakeAddresses>();
  DnsStubOptions options;
  options.mode = config.exec_dns == ExecDns::chain ? DnsMode::chain : DnsMode::fake;
  options.upstream = upstream;
  options.fake_ipv6 = ipv6;
  DnsStub stub(asio::ip::udp::socket(ex, asio::ip::udp::v4(), sockets.at(0)),
               tcp::acceptor(ex, tcp::v4(), sockets.at(1)), *pool, services, options);
  // The function object, kept by co_spawn for as long as the task runs, owns the stub and the
  // pool (the TCP capture's mapper holds the pool too). Not a coroutine taking them by value:
  // GCC 12 destroys such parameters twice when the loop is torn down before the task starts.
  auto owned = std::make_shared<DnsStub>(std::move(stub));
  asio::co_spawn(
      ex, [owned, pool]() -> awaitable<void> { co_await owned->run(); }, log_task_end);
  return [pool](const tcp::endpoint& destination) -> std::optional<proto::HostPort> {
    const asio::ip::address address = destination.address();
    if (!capture::FakeAddresses::is_fake(address)) {
      return proto::HostPort{address.to_string(), destination.port()};
    }
    auto name = pool->name_of(address, capture::FakeAddresses::Clock::now());
    if (!name) {
      log::error("exec: " + address.to_string() +
                 " is a fake DNS address that no name holds now (asked before, or recycled)");
      return std::nullopt;
    }
    log::verbose("exec: " + address.to_string() + " is the fake address of " + *name);
    return proto::HostPort{std::move(*name), destination.port()};
  };
}

}  // namespace hc::app
