#include "chain/chain_error.hpp"

namespace hc::chain {
namespace {

class ChainCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chain"; }
  std::string message(int ev) const override {
    switch (static_cast<ChainErrc>(ev)) {
      case ChainErrc::timed_out:
        return "timed out";
      case ChainErrc::closed_during_handshake:
        return "connection closed by the proxy during the handshake";
      case ChainErrc::no_address:
        return "no usable address";
      case ChainErrc::no_ipv4_address:
        return "no IPv4 address (socks4 cannot carry IPv6; use socks4a:// to pass the name)";
      case ChainErrc::ended_before_first_byte:
        // OpenSSH -D, for one, grants the tunnel first and connects afterwards.
        return "the tunnel ended before anything came through it (a hop that grants the tunnel "
               "before it connects does this when its connect fails)";
      case ChainErrc::no_hop_left:
        return "every hop already failed for this connection";
      case ChainErrc::not_allowed:
        return "target not allowed by this server's rules";
      case ChainErrc::own_listener:
        return "is this process's own listening address (a proxy loop)";
    }
    return "unknown chain error";
  }
};

}  // namespace

const std::error_category& chain_category() {
  static const ChainCategory c;
  return c;
}

std::error_code make_error_code(ChainErrc e) {
  return {static_cast<int>(e), chain_category()};
}

ChainError ChainError::of_hop(std::size_t hop, std::size_t hops, std::string where,
                              proto::Stage stage, std::error_code ec, std::string detail) {
  ChainError e;
  e.hop = hop;
  e.hops = hops;
  e.where = std::move(where);
  e.stage = stage;
  e.ec = ec;
  e.detail = std::move(detail);
  return e;
}

ChainError ChainError::of_target(std::string target, std::size_t hops, proto::Stage stage,
                                 std::error_code ec, std::string detail) {
  return of_hop(0, hops, std::move(target), stage, ec, std::move(detail));
}

std::string hop_label(std::size_t number, std::size_t count, std::string_view redacted_url) {
  return "hop " + std::to_string(number) + "/" + std::to_string(count) + " " +
         std::string(redacted_url);
}

std::string ChainError::who() const {
  return at_target() ? "target " + where : hop_label(hop, hops, where);
}

std::string ChainError::message() const {
  return who() + ": " + reason();
}

std::string ChainError::reason() const {
  std::string m;
  if (stage == proto::Stage::request && !asked.empty()) {
    m += "could not reach " + asked;
  } else {
    m += proto::to_string(stage);
  }
  m += ": ";
  m += ec.message();
  if (!detail.empty()) {
    m += ": ";
    m += detail;
  }
  return m;
}

}  // namespace hc::chain
