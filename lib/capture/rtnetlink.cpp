#include "capture/rtnetlink.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

namespace hc::capture {
namespace {

constexpr unsigned kLoopbackIndex = 1;  // lo is the first link of every network namespace

/// Room for one request or its acknowledgement (MNL_SOCKET_BUFFER_SIZE is not a constant).
using Buffer = std::array<char, 8192>;

std::error_code errno_code(int value) {
  return {value, std::system_category()};
}

/// Sends one request built in `buffer` and reads its acknowledgement.
std::error_code send_request(nlmsghdr* request) {
  mnl_socket* socket = mnl_socket_open(NETLINK_ROUTE);
  if (socket == nullptr) {
    return errno_code(errno);
  }
  std::error_code result;
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0 ||
      mnl_socket_sendto(socket, request, request->nlmsg_len) < 0) {
    result = errno_code(errno);
  } else {
    Buffer answer{};
    const ssize_t size = mnl_socket_recvfrom(socket, answer.data(), answer.size());
    // An acknowledgement is an NLMSG_ERROR with error 0; mnl_cb_run turns the rest into errno.
    if (size < 0 || mnl_cb_run(answer.data(), size, request->nlmsg_seq,
                               mnl_socket_get_portid(socket), nullptr, nullptr) < 0) {
      result = errno_code(errno);
    }
  }
  mnl_socket_close(socket);
  return result;
}

nlmsghdr* start_request(char* buffer, std::uint16_t type, std::uint16_t flags) {
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = type;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  header->nlmsg_seq = static_cast<std::uint32_t>(::time(nullptr));
  return header;
}

void put_address(nlmsghdr* header, std::uint16_t type, const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    mnl_attr_put(header, type, bytes.size(), bytes.data());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    mnl_attr_put(header, type, bytes.size(), bytes.data());
  }
}

std::uint8_t family_of(const asio::ip::address& address) {
  return address.is_v4() ? AF_INET : AF_INET6;
}

/// A table id in rtmsg's 8 bits where it fits; RTA_TABLE carries the whole id either way.
std::uint8_t short_table(std::uint32_t table) {
  return table < 256 ? static_cast<std::uint8_t>(table)
                     : static_cast<std::uint8_t>(RT_TABLE_UNSPEC);
}

}  // namespace

std::error_code bring_loopback_up() {
  Buffer buffer{};
  nlmsghdr* header = start_request(buffer.data(), RTM_NEWLINK, 0);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = kLoopbackIndex;
  link->ifi_flags = IFF_UP;
  link->ifi_change = IFF_UP;
  return send_request(header);
}

std::error_code add_loopback_address(const asio::ip::address& address, unsigned prefix_length) {
  Buffer buffer{};
  nlmsghdr* header = start_request(buffer.data(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* entry = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
  entry->ifa_family = family_of(address);
  entry->ifa_prefixlen = static_cast<std::uint8_t>(prefix_length);
  entry->ifa_flags = address.is_v6() ? IFA_F_NODAD : 0;
  entry->ifa_scope = RT_SCOPE_UNIVERSE;
  entry->ifa_index = kLoopbackIndex;
  put_address(header, IFA_LOCAL, address);
  put_address(header, IFA_ADDRESS, address);
  return send_request(header);
}

std::error_code add_default_route_to_loopback(const asio::ip::address& source) {
  Buffer buffer{};
  nlmsghdr* header = start_request(buffer.data(), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  route->rtm_family = family_of(source);
  route->rtm_dst_len = 0;  // default
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = RT_SCOPE_LINK;  // "dev lo" with no gateway
  route->rtm_type = RTN_UNICAST;
  put_address(header, RTA_PREFSRC, source);
  mnl_attr_put_u32(header, RTA_OIF, kLoopbackIndex);
  return send_request(header);
}

std::error_code add_fwmark_rule(int family, std::uint32_t mark, std::uint32_t table) {
  Buffer buffer{};
  nlmsghdr* header = start_request(buffer.data(), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rule = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(header, sizeof(fib_rule_hdr)));
  rule->family = static_cast<std::uint8_t>(family);
  rule->table = short_table(table);
  rule->action = FR_ACT_TO_TBL;
  mnl_attr_put_u32(header, FRA_FWMARK, mark);
  mnl_attr_put_u32(header, FRA_FWMASK, 0xffffffffU);
  mnl_attr_put_u32(header, FRA_TABLE, table);
  return send_request(header);
}

std::error_code add_local_default_route(int family, std::uint32_t table) {
  Buffer buffer{};
  nlmsghdr* header = start_request(buffer.data(), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  route->rtm_family = static_cast<std::uint8_t>(family);
  route->rtm_dst_len = 0;  // default
  route->rtm_table = short_table(table);
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = RT_SCOPE_HOST;
  route->rtm_type = RTN_LOCAL;
  mnl_attr_put_u32(header, RTA_TABLE, table);
  mnl_attr_put_u32(header, RTA_OIF, kLoopbackIndex);
  return send_request(header);
}

}  // namespace hc::capture
