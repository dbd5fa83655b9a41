#include "transport/own_endpoints.hpp"

#include <algorithm>
#include <ifaddrs.h>
#include <mutex>
#include <netinet/in.h>
#include <string>

namespace hc::transport {
namespace {

/// An IPv4 address as itself, not v4-mapped: a dual-stack listener sees both forms.
asio::ip::address plain(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

std::vector<asio::ip::address> interface_list() {
  std::vector<asio::ip::address> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return out;
  }
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) {
      continue;
    }
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.emplace_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr),
                bytes.begin());
      out.emplace_back(asio::ip::address_v6(bytes, in6->sin6_scope_id));
    }
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::vector<asio::ip::address> host_addresses() {
  return interface_list();
}

namespace {

struct Registry {
  std::mutex mutex;
  OwnEndpoints endpoints;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void OwnEndpoints::add(const tcp::endpoint& listening) {
  const tcp::endpoint e(plain(listening.address()), listening.port());
  if (std::find(endpoints_.begin(), endpoints_.end(), e) == endpoints_.end()) {
    endpoints_.push_back(e);
  }
}

bool OwnEndpoints::reaches(
    const tcp::endpoint& to,
    const std::function<std::vector<asio::ip::address>()>& host_addresses) const {
  const asio::ip::address address = plain(to.address());
  bool wildcard_port = false;
  for (const tcp::endpoint& e : endpoints_) {
    if (e.port() != to.port()) {
      continue;
    }
    if (e.address().is_unspecified()) {
      wildcard_port = true;
    } else if (e.address() == address) {
      return true;
    }
  }
  if (!wildcard_port) {
    return false;
  }
  if (address.is_loopback() || address.is_unspecified()) {
    return true;  // connecting to 0.0.0.0 or :: reaches this host too
  }
  const auto mine = host_addresses();
  return std::any_of(mine.begin(), mine.end(),
                     [&](const asio::ip::address& a) { return plain(a) == address; });
}

void register_own_listener(const tcp::endpoint& listening) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.endpoints.add(listening);
}

bool is_own_listener(const tcp::endpoint& to) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  return !r.endpoints.empty() && r.endpoints.reaches(to, host_addresses);
}

bool is_this_host(const asio::ip::address& address) {
  const asio::ip::address a = plain(address);
  if (a.is_loopback() || a.is_unspecified()) {
    return true;
  }
  const auto mine = host_addresses();
  return std::any_of(mine.begin(), mine.end(),
                     [&](const asio::ip::address& m) { return plain(m) == a; });
}

std::vector<asio::ip::address> literal_addresses(std::string_view host) {
  if (host == "localhost") {
    return {asio::ip::address_v4::loopback(), asio::ip::address_v6::loopback()};
  }
  std::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return {};
  }
  return {address};
}

}  // namespace hc::transport
