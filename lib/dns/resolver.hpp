/// Asynchronous host name resolution: one c-ares channel driven by the io_context (its sockets are
/// watched with posix::stream_descriptor, its retries by one steady_timer). Used for hop 1 and for
/// the few targets the local side must resolve itself. Single-threaded io_context assumed; each
/// event loop has its own Resolver, and one dns::Library guards them all.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

namespace hc::dns {

/// Category of resolver errors. Values are c-ares statuses (ARES_ENOTFOUND, ARES_ETIMEOUT, ...) and
/// messages are ares_strerror text, e.g. "Domain name not found". ARES_ETIMEOUT compares equal to
/// std::errc::timed_out, ARES_ECANCELLED and ARES_EDESTRUCTION to std::errc::operation_canceled.
const std::error_category& dns_category();

/// Parses one name-server value, "IP", "IP:PORT", "[v6]" or "[v6]:PORT" (a bare IPv6 literal
/// takes no port), into c-ares' CSV form "IP:PORT" / "[v6]:PORT" with port 53 by default.
/// Returns std::nullopt if the text is anything else (names, zones, port 0, lists).
std::optional<std::string> parse_dns_server(std::string_view text);

/// c-ares' process-wide set-up. c-ares 1.18 wants ares_library_init called before any other
/// thread starts, and the call itself is not thread-safe: make one on the main thread, before the
/// first Resolver and before any thread that makes one, and keep it until they are all gone.
class Library {
 public:
  /// Throws std::system_error ("cannot initialise c-ares").
  Library();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

/// Needs a dns::Library alive for its whole life.
class Resolver {
 public:
  struct Options {
    /// Values accepted by parse_dns_server(); empty = the system's (/etc/resolv.conf). With
    /// explicit servers /etc/hosts is still looked at first.
    std::vector<std::string> servers;
    std::chrono::milliseconds timeout{2000};  ///< per try; c-ares doubles it on each round
    int tries = 2;
  };

  /// Throws std::system_error if c-ares cannot be initialised or a server string is bad
  /// ("bad --dns-server value '...'").
  Resolver(asio::any_io_executor ex, Options options);
  /// Pending resolve() calls complete with ARES_EDESTRUCTION.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// All addresses of host, IPv6 and IPv4, in resolver order. IP literals come back at once
  /// without a query. Never throws for resolution failures: they are returned in dns_category().
  asio::awaitable<std::tuple<std::error_code, std::vector<asio::ip::address>>> resolve(
      std::string host);

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared so that late timer/watcher handlers can see it is gone
};

}  // namespace hc::dns
