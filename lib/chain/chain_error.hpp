/// The one error type of a chain: which hop (index and redacted URL), which stage, and why.
///   hopchain: hop 2/3 socks5h://proxy-b:1080: auth: authentication failed (SOCKS5 ...)
/// A refused request also says what the hop was asked to reach, since the same reply code means
/// "the next hop is down" or "the target is":
///   hopchain: hop 1/2 socks5h://proxy-a:1080: could not reach hop 2 (127.0.0.1:21999):
///   connection refused (SOCKS5 reply 0x05)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "proto/types.hpp"

namespace hc::chain {

/// Failures of the chain engine itself (the codecs and the network have their own categories).
enum class ChainErrc {
  timed_out = 1,            ///< a connect or handshake outlived --connect-timeout
  closed_during_handshake,  ///< EOF before the hop finished its reply
  no_address,               ///< the resolver returned nothing usable
  no_ipv4_address,          ///< socks4 needs IPv4, the name has only IPv6 addresses
  ended_before_first_byte,  ///< the tunnel ended (EOF or reset) before the target sent a byte
  no_hop_left,              ///< every hop already failed this connection
  not_allowed,              ///< every address of the target is refused by Services::target_check
  own_listener,             ///< the connection would come back to this process (a proxy loop)
};
const std::error_category& chain_category();
std::error_code make_error_code(ChainErrc e);

/// How every log line and error names a hop: "hop 2/3 socks5h://proxy-b:1080" (1-based number,
/// the chain's length, its redacted URL).
std::string hop_label(std::size_t number, std::size_t count, std::string_view redacted_url);

struct ChainError {
  /// A failure of hop `hop` (1-based) of a chain of `hops`, whose redacted URL is `where`.
  static ChainError of_hop(std::size_t hop, std::size_t hops, std::string where, proto::Stage stage,
                           std::error_code ec, std::string detail = {});
  /// A failure reaching the target itself (`target`: host:port), with no hop in between.
  static ChainError of_target(std::string target, std::size_t hops, proto::Stage stage,
                              std::error_code ec, std::string detail = {});

  std::size_t hop = 0;   ///< 1-based; 0 = the target itself (see at_target())
  std::size_t hops = 0;  ///< chain length
  std::string where;     ///< the hop's redacted URL, or the target's host:port
  proto::Stage stage = proto::Stage::connect;
  std::error_code ec;
  std::string detail;  ///< extra words (an HTTP status line, a name that did not resolve)
  /// Request stage: what the hop was asked to reach, "hop 2 (127.0.0.1:1080)" or "the target
  /// example.org:22"; empty for other requests (UDP ASSOCIATE).
  std::string asked;

  /// The failure was reaching the target directly, not a hop's.
  bool at_target() const { return hop == 0; }
  /// "hop 2/3 socks5h://proxy-b:1080: request: ..." without the "hopchain: " prefix.
  std::string message() const;
  /// Whom it is about: "hop 2/3 socks5h://proxy-b:1080", or "target example.org:22".
  std::string who() const;
  /// message() without the "hop 2/3 URL: " or "target HOST:PORT: " that starts it.
  std::string reason() const;
};

}  // namespace hc::chain

template <>
struct std::is_error_code_enum<hc::chain::ChainErrc> : std::true_type {};
