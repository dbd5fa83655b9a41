/// SOCKS4, SOCKS4a and SOCKS5 (RFC 1928 CONNECT, and BIND and UDP ASSOCIATE when the options
/// allow them; RFC 1929 username/password), server side: parses what a local client sends and
/// produces the bytes to answer it.
///
/// It follows the Step contract of the client codecs (and is a Handshake, so run_handshake drives
/// it). Every read is exact: the greeting, sub-negotiation and request by their length fields, and
/// the NUL-terminated SOCKS4 USERID and SOCKS4a name one byte at a time. So bytes a client
/// pipelines after its request are never consumed here; they stay in the socket for the relay.
///
/// `done` means a request is complete: read request() (a CONNECT, or an allowed BIND or UDP
/// ASSOCIATE), open the tunnel or the relay, then send reply() (a BIND: bind_reply() twice). A
/// refusal the client should hear about (no acceptable method, bad password, a command or address
/// type we do not serve, an over-long field) is a `send` of that answer, then `fail`. Input that is
/// not SOCKS at all fails without an answer.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/step.hpp"
#include "proto/types.hpp"

namespace hc::proto {

/// Why a client's handshake was refused.
enum class SocksServerError {
  bad_version = 1,             ///< first byte is neither 4 nor 5: not a SOCKS client
  no_acceptable_method,        ///< SOCKS5: the client did not offer the method we require
  auth_bad_version,            ///< RFC 1929 sub-negotiation VER is not 1
  empty_user,                  ///< RFC 1929 ULEN 0
  empty_password,              ///< RFC 1929 PLEN 0
  auth_failed,                 ///< unknown user or wrong password
  socks4_needs_auth,           ///< a SOCKS4 client while users are configured
  bad_request_version,         ///< SOCKS5 request VER is not 5
  command_not_supported,       ///< BIND, an unknown command, or a UDP ASSOCIATE not allowed
  address_type_not_supported,  ///< SOCKS5 ATYP not 1, 3 or 4
  invalid_name,                ///< empty name, or a control character or space in it
  userid_too_long,             ///< SOCKS4 USERID over 255 bytes
  name_too_long,               ///< SOCKS4a name over 255 bytes
};
const std::error_category& socks_server_category();
std::error_code make_error_code(SocksServerError e);

enum class SocksVersion : std::uint8_t { socks4, socks4a, socks5 };
std::string_view to_string(SocksVersion version);

/// What a request asks for: a tunnel, a port that accepts one connection (BIND, when allowed), or
/// (SOCKS5 only, when allowed) a UDP relay.
enum class SocksCommand : std::uint8_t { connect, bind, udp_associate };

struct SocksRequest {
  SocksVersion version = SocksVersion::socks5;
  SocksCommand command = SocksCommand::connect;
  /// CONNECT: an IP literal or a name, as the client sent it. BIND: the host expected to connect
  /// (DST.ADDR/DST.PORT, SOCKS4 DSTIP/DSTPORT; often the server of the client's control
  /// connection, or 0.0.0.0:0 for anyone). UDP ASSOCIATE: the address the
  /// client says it will send datagrams from (often 0.0.0.0:0, "not known yet").
  HostPort target;
  std::string user;  ///< the RFC 1929 user or SOCKS4 USERID, for logs; never a password
};

struct SocksServerOptions {
  /// When set, SOCKS5 clients must pass RFC 1929 and SOCKS4 clients (no password in that
  /// protocol) are refused. Called once per client with what it sent; true accepts.
  std::function<bool(std::string_view user, std::string_view password)> check_password;
  /// When set, SOCKS5 UDP ASSOCIATE (RFC 1928 §7) completes like CONNECT, with request().command
  /// saying which; otherwise it is refused with REP 0x07.
  bool allow_udp_associate = false;
  /// When set, SOCKS5 BIND (CMD 0x02) and SOCKS4 BIND (CD 2) complete like CONNECT; otherwise
  /// they are refused (REP 0x07, CD 0x5B).
  bool allow_bind = false;
  /// Offers GSS-API (RFC 1961, method 0x01), chosen over RFC 1929 when a client offers both:
  /// the handshake is then done right after the method reply, with gssapi() true, and the
  /// caller runs the sub-negotiation (proto/socks5_gssapi.hpp) and a `request_only` handshake.
  /// Without check_password, no other method is accepted (nor SOCKS4).
  bool offer_gssapi = false;
  /// Starts at the SOCKS5 request: the method and its sub-negotiation are done. `user` is then
  /// the authenticated name that request().user reports (for logs).
  bool request_only = false;
  std::string user;
};

// RFC 1928 §6 REP values the server sends.
inline constexpr std::uint8_t kRepSucceeded = 0x00;
inline constexpr std::uint8_t kRepGeneralFailure = 0x01;
inline constexpr std::uint8_t kRepNotAllowed = 0x02;
inline constexpr std::uint8_t kRepNetworkUnreachable = 0x03;
inline constexpr std::uint8_t kRepHostUnreachable = 0x04;
inline constexpr std::uint8_t kRepConnectionRefused = 0x05;
inline constexpr std::uint8_t kRepTtlExpired = 0x06;
inline constexpr std::uint8_t kRepCommandNotSupported = 0x07;
inline constexpr std::uint8_t kRepAddressTypeNotSupported = 0x08;

class SocksServerHandshake final : public Handshake {
 public:
  explicit SocksServerHandshake(SocksServerOptions options = {});

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  /// The client's request; complete after `done` unless gssapi().
  const SocksRequest& request() const { return request_; }
  /// Done with the GSS-API method chosen: the request is still to come.
  bool gssapi() const { return gssapi_; }

  /// The final answer to the request: REP 0 grants it with BND.ADDR/BND.PORT = `bound` (an IP
  /// literal; anything else is sent as 0.0.0.0:0), any other SOCKS5 REP refuses it. A SOCKS4
  /// client gets CD 0x5A or 0x5B.
  std::vector<std::uint8_t> reply(std::uint8_t rep, const HostPort& bound = {}) const {
    return encode_reply(request_.version, rep, bound);
  }
  static std::vector<std::uint8_t> encode_reply(SocksVersion version, std::uint8_t rep,
                                                const HostPort& bound);
  /// A BIND reply: as reply(), except that a SOCKS5 BND.ADDR may also be a name (RFC 1928 §5
  /// allows one), since where a hop listens may be known by its name only. SOCKS4 cannot carry
  /// a name: it gets 0.0.0.0, "the SOCKS server's address".
  std::vector<std::uint8_t> bind_reply(std::uint8_t rep, const HostPort& bound) const;

 private:
  enum class State : std::uint8_t {
    greeting,       // VER and the next byte (NMETHODS, or SOCKS4 CD)
    methods,        // SOCKS5 METHODS
    auth_head,      // RFC 1929 VER ULEN
    auth_user,      // UNAME PLEN
    auth_password,  // PASSWD
    request_head,   // SOCKS5 VER CMD RSV ATYP and the first address byte
    request_tail,   // the rest of DST.ADDR and DST.PORT
    socks4_head,    // VN CD DSTPORT DSTIP
    socks4_userid,  // USERID, a byte at a time up to its NUL
    socks4_name,    // SOCKS4a host name, a byte at a time up to its NUL
    sending,        // an answer is being written; then next_ (or the refusal's failure)
    done,
    failed
  };
  static Stage stage_of(State state);
  Step expect(State state, std::size_t size);
  Step answer(std::vector<std::uint8_t> bytes, State next, std::size_t next_size, Stage stage);
  Step refuse(std::vector<std::uint8_t> bytes, SocksServerError why, Stage stage);
  Step fail(std::error_code ec, Stage stage);
  Step refuse_socks4(SocksServerError why);
  Step refuse_socks5(std::uint8_t rep, SocksServerError why);
  Step on_greeting();
  Step on_methods();
  Step on_auth_head();
  Step on_auth_user();
  Step on_auth_password();
  Step on_request_head();
  Step on_request_tail();
  Step on_socks4_head();
  Step on_socks4_byte();

  SocksServerOptions options_;
  State state_ = State::greeting;
  State next_ = State::greeting;  // what to read once the pending answer is written
  std::size_t next_size_ = 0;
  std::vector<std::uint8_t> buf_;  // the field being read, so far
  std::size_t want_ = 0;           // its total size
  std::string field_;              // a NUL-terminated SOCKS4 field, so far
  std::error_code ec_;             // the failure, repeated if resumed after it
  Stage fail_stage_ = Stage::auth;
  std::uint8_t socks4_ip_[4] = {};
  SocksRequest request_;
  bool gssapi_ = false;
};

}  // namespace hc::proto

template <>
struct std::is_error_code_enum<hc::proto::SocksServerError> : std::true_type {};
