/// c-ares on the io_context. c-ares reports which sockets it wants watched through the socket state
/// callback; each gets a stream_descriptor that only waits for readiness (c-ares does all reads,
/// writes and closes). Retries and server failover run from one steady_timer re-armed from
/// ares_timeout() after every activity.
#include "dns/resolver.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <utility>

#include <ares.h>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "proto/types.hpp"

namespace hc::dns {
namespace {

class DnsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dns"; }
  std::string message(int ev) const override { return ares_strerror(ev); }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (ev) {
      case ARES_ETIMEOUT:
        return std::errc::timed_out;
      case ARES_ECANCELLED:
      case ARES_EDESTRUCTION:
        return std::errc::operation_canceled;
      case ARES_ENOMEM:
        return std::errc::not_enough_memory;
      case ARES_ECONNREFUSED:
        return std::errc::connection_refused;
      default:
        return {ev, *this};
    }
  }
};

std::error_code dns_error(int status) {
  return {status, dns_category()};
}

/// The addresses of a c-ares result, in its order, without duplicates.
std::vector<asio::ip::address> to_addresses(const ares_addrinfo* result) {
  std::vector<asio::ip::address> addresses;
  for (const ares_addrinfo_node* node = result ? result->nodes : nullptr; node != nullptr;
       node = node->ai_next) {
    asio::ip::address address;
    if (node->ai_family == AF_INET && node->ai_addrlen >= sizeof(sockaddr_in)) {
      sockaddr_in sin{};
      std::memcpy(&sin, node->ai_addr, sizeof sin);  // memcpy: no aliasing through casts
      address = asio::ip::address_v4(ntohl(sin.sin_addr.s_addr));
    } else if (node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof(sockaddr_in6)) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, node->ai_addr, sizeof sin6);
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &sin6.sin6_addr, bytes.size());
      address = asio::ip::address_v6(bytes, sin6.sin6_scope_id);
    } else {
      continue;
    }
    if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
      addresses.push_back(address);
    }
  }
  return addresses;
}

/// One ares_getaddrinfo call; owns the awaiting handler until c-ares reports a status.
template <typename Handler>
struct QueryOp {
  Handler handler;
  asio::any_io_executor work;  // tracked, so the handler's context keeps running meanwhile

  // c-ares calls this exactly once per query with any status, including ARES_EDESTRUCTION from
  // ares_destroy() and synchronously from inside ares_getaddrinfo() (e.g. /etc/hosts hits).
  // Resuming the coroutine there would re-enter c-ares or the Resolver's destructor, so post.
  static void on_done(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    std::unique_ptr<QueryOp> op(static_cast<QueryOp*>(arg));
    std::error_code ec;
    std::vector<asio::ip::address> addresses;
    if (status == ARES_SUCCESS) {
      addresses = to_addresses(result);
      if (addresses.empty()) {
        ec = dns_error(ARES_ENODATA);
      }
    } else {
      ec = dns_error(status);
    }
    if (result != nullptr) {
      ares_freeaddrinfo(result);
    }
    asio::any_io_executor work = std::move(op->work);
    asio::post(work,
               [handler = std::move(op->handler), ec, addresses = std::move(addresses)]() mutable {
                 std::move(handler)(ec, std::move(addresses));
               });
  }
};

}  // namespace

const std::error_category& dns_category() {
  static const DnsCategory category;
  return category;
}

std::optional<std::string> parse_dns_server(std::string_view text) {
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return std::nullopt;
      }
      port_text = rest.substr(1);
      has_port = true;
    }
    bracketed = true;
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && colon == text.rfind(':')) {
    // Exactly one colon: IPv4:PORT. More colons: a bare IPv6 literal, which takes no port.
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }

  unsigned port = 53;
  if (has_port) {
    const char* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc{} || ptr != end || port == 0 || port > 65535) {
      return std::nullopt;
    }
  }
  // inet_pton rejects zone ids ("%eth0"), which c-ares could not take either.
  if (!bracketed && proto::is_ipv4_literal(host)) {
    return std::string(host) + ':' + std::to_string(port);
  }
  if (proto::is_ipv6_literal(host)) {
    return '[' + std::string(host) + "]:" + std::to_string(port);
  }
  return std::nullopt;
}

Library::Library() {
  if (const int status = ares_library_init(ARES_LIB_INIT_ALL); status != ARES_SUCCESS) {
    throw std::system_error(dns_error(status), "cannot initialise c-ares");
  }
}

Library::~Library() {
  ares_library_cleanup();
}

struct Resolver::State : std::enable_shared_from_this<State> {
  struct Watcher {
    asio::posix::stream_descriptor descriptor;
    std::uint64_t serial = 0;  // tells a handler for a closed fd from one for a reused fd number
    bool want_read = false;
    bool want_write = false;
    bool read_armed = false;
    bool write_armed = false;
  };

  explicit State(asio::any_io_executor executor) : ex(executor), timer(executor) {}

  ~State() {
    if (channel != nullptr) {
      // Completes every pending query with ARES_EDESTRUCTION (posted, see QueryOp) and reports
      // each socket with (fd, 0, 0) before closing it.
      ares_destroy(channel);
    }
    for (auto& entry : watchers) {
      entry.second.descriptor.release();  // c-ares owns the fds; never close them here
    }
  }

  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void open(const Options& options) {
    std::string csv;
    for (const std::string& server : options.servers) {
      const std::optional<std::string> entry = parse_dns_server(server);
      if (!entry) {
        throw std::system_error(dns_error(ARES_EBADSTR), "bad --dns-server value '" + server + "'");
      }
      csv += csv.empty() ? *entry : ',' + *entry;
    }

    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    opts.sock_state_cb = &State::on_sock_state;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(
        std::clamp<std::chrono::milliseconds::rep>(options.timeout.count(), 1, INT_MAX));
    opts.tries = std::max(options.tries, 1);
    // With explicit servers: /etc/hosts, then always those servers, even where nsswitch.conf
    // would not consult DNS at all. The user named the servers to use.
    char lookups[] = "fb";
    if (!csv.empty()) {
      mask |= ARES_OPT_LOOKUPS;
      opts.lookups = lookups;
    }
    if (const int status = ares_init_options(&channel, &opts, mask); status != ARES_SUCCESS) {
      channel = nullptr;
      throw std::system_error(dns_error(status), "cannot initialise the DNS resolver");
    }
    if (!csv.empty()) {
      if (const int status = ares_set_servers_ports_csv(channel, csv.c_str());
          status != ARES_SUCCESS) {
        throw std::system_error(dns_error(status), "bad --dns-server value '" + csv + "'");
      }
    }
  }

  template <typename Handler>
  void start(Handler handler, const std::string& host) {
    const asio::any_io_executor handler_ex = asio::get_associated_executor(handler, ex);
    auto* op = new QueryOp<Handler>{
        std::move(handler), asio::prefer(handler_ex, asio::execution::outstanding_work.tracked)};
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    ares_getaddrinfo(channel, host.c_str(), nullptr, &hints, &QueryOp<Handler>::on_done, op);
    rearm_timer();
  }

  // c-ares: (fd, r, w) = watch fd for these; (fd, 0, 0) = about to close fd.
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    State& self = *static_cast<State*>(data);
    auto it = self.watchers.find(fd);
    if (readable == 0 && writable == 0) {
      if (it != self.watchers.end()) {
        // release() aborts pending waits and leaves the fd open for c-ares to close; closing it
        // here would be a double close, and the fd number is reused at once.
        it->second.descriptor.release();
        self.watchers.erase(it);
      }
      return;
    }
    if (it == self.watchers.end()) {
      asio::posix::stream_descriptor descriptor(self.ex);
      std::error_code ec;
      descriptor.assign(fd, ec);
      if (ec) {
        return;  // cannot watch it: its queries fail through the timer path instead
      }
      it = self.watchers.emplace(fd, Watcher{std::move(descriptor), ++self.next_serial}).first;
    }
    it->second.want_read = readable != 0;
    it->second.want_write = writable != 0;
    self.arm(fd, it->second);
  }

  void arm(ares_socket_t fd, Watcher& watcher) {
    if (watcher.want_read && !watcher.read_armed) {
      watcher.read_armed = true;
      wait(fd, watcher, asio::posix::descriptor_base::wait_read);
    }
    if (watcher.want_write && !watcher.write_armed) {
      watcher.write_armed = true;
      wait(fd, watcher, asio::posix::descriptor_base::wait_write);
    }
  }

  void wait(ares_socket_t fd, Watcher& watcher, asio::posix::descriptor_base::wait_type type) {
    // weak_ptr: the handler may run after the Resolver is gone, even with a success code.
    watcher.descriptor.async_wait(type, [weak = weak_from_this(), fd, serial = watcher.serial,
                                         type](const std::error_code& ec) {
      if (const std::shared_ptr<State> self = weak.lock()) {
        self->on_ready(fd, serial, type, ec);
      }
    });
  }

  void on_ready(ares_socket_t fd, std::uint64_t serial,
                asio::posix::descriptor_base::wait_type type, const std::error_code& ec) {
    auto it = watchers.find(fd);
    if (it == watchers.end() || it->second.serial != serial) {
      return;  // released: c-ares closed this socket
    }
    const bool read = type == asio::posix::descriptor_base::wait_read;
    (read ? it->second.read_armed : it->second.write_armed) = false;
    if (ec != asio::error::operation_aborted) {
      ares_socket_t read_fd = read ? fd : ARES_SOCKET_BAD;
      ares_socket_t write_fd = read ? ARES_SOCKET_BAD : fd;
      if (ec) {
        read_fd = write_fd = fd;  // let c-ares meet the socket error itself (as Node does)
      }
      ares_process_fd(channel, read_fd, write_fd);
      // The state callback may have erased the watcher or replaced it under the same fd.
      it = watchers.find(fd);
      rearm_timer();
    }
    if (it != watchers.end()) {
      arm(fd, it->second);
    }
  }

  // "When the timeout expires, the integrator must call ares_process_fd with both sockets set to
  // ARES_SOCKET_BAD" and re-arm, so that c-ares moves on to the next try and server.
  void rearm_timer() {
    ++timer_serial;
    timeval tv{};
    const timeval* next = ares_timeout(channel, nullptr, &tv);
    if (next == nullptr) {
      timer.cancel();  // nothing pending
      return;
    }
    // +1 ms: ares_timeout truncates to milliseconds, and waking before c-ares' deadline would
    // spin through zero-length waits.
    timer.expires_after(std::chrono::seconds(next->tv_sec) +
                        std::chrono::microseconds(next->tv_usec) + std::chrono::milliseconds(1));
    timer.async_wait([weak = weak_from_this(), serial = timer_serial](const std::error_code& ec) {
      const std::shared_ptr<State> self = weak.lock();
      // A stale handler can arrive with success after expires_after(); the serial filters it.
      if (!self || ec == asio::error::operation_aborted || serial != self->timer_serial) {
        return;
      }
      ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->rearm_timer();
    });
  }

  asio::any_io_executor ex;
  asio::steady_timer timer;
  std::uint64_t timer_serial = 0;
  std::map<ares_socket_t, Watcher> watchers;
  std::uint64_t next_serial = 0;
  ares_channel channel = nullptr;
};

Resolver::Resolver(asio::any_io_executor ex, Options options)
    : state_(std::make_shared<State>(std::move(ex))) {
  state_->open(options);
}

// Handlers hold only weak_ptrs, so this destroys the State, and ~State destroys the channel.
Resolver::~Resolver() = default;

asio::awaitable<std::tuple<std::error_code, std::vector<asio::ip::address>>> Resolver::resolve(
    std::string host) {
  if (proto::is_ipv4_literal(host) || proto::is_ipv6_literal(host)) {
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
      co_return std::tuple{std::error_code{}, std::vector<asio::ip::address>{address}};
    }
  }
  if (host.empty() || host.find('\0') != std::string::npos) {
    co_return std::tuple{dns_error(ARES_EBADNAME), std::vector<asio::ip::address>{}};
  }
  State* state = state_.get();
  auto token = asio::experimental::as_tuple(asio::use_awaitable);
  auto result = co_await asio::async_initiate<
      decltype(token), void(std::error_code, std::vector<asio::ip::address>)>(
      [](auto handler, State* s, const std::string& name) { s->start(std::move(handler), name); },
      token, state, host);
  co_return result;
}

}  // namespace hc::dns
