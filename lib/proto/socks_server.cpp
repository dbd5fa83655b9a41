/// SOCKS4/4a/5 server-side handshake: see socks_server.hpp for the contract.
#include "proto/socks_server.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "proto/errors.hpp"
#include "proto/socks5_address.hpp"
#include "proto/socks5_head.hpp"

namespace hc::proto {
namespace {

constexpr std::uint8_t kSocks4 = 0x04;
constexpr std::uint8_t kSocks5 = 0x05;
constexpr std::uint8_t kCmdConnect = 0x01;
constexpr std::uint8_t kCmdBind = 0x02;
constexpr std::uint8_t kCmdUdpAssociate = 0x03;
// RFC 1928 §3 methods.
constexpr std::uint8_t kMethodNone = 0x00;
constexpr std::uint8_t kMethodGssapi = 0x01;
constexpr std::uint8_t kMethodUserPass = 0x02;
constexpr std::uint8_t kMethodNoAcceptable = 0xFF;
// RFC 1929 §2: sub-negotiation version and the status bytes we answer with.
constexpr std::uint8_t kAuthVersion = 0x01;
constexpr std::uint8_t kAuthOk = 0x00;
constexpr std::uint8_t kAuthFailure = 0x01;
// SOCKS4 reply CD.
constexpr std::uint8_t kSocks4Granted = 0x5A;
constexpr std::uint8_t kSocks4Rejected = 0x5B;

constexpr std::size_t kGreetingSize = 2;
constexpr std::size_t kSocks4HeadSize = 8;  // VN CD DSTPORT DSTIP
constexpr std::size_t kMaxField = 255;      // SOCKS4 USERID and SOCKS4a name

class SocksServerCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socks server"; }
  std::string message(int ev) const override {
    switch (static_cast<SocksServerError>(ev)) {
      case SocksServerError::bad_version:
        return "not a SOCKS client (first byte is neither 4 nor 5)";
      case SocksServerError::no_acceptable_method:
        return "the client offered no acceptable authentication method (answered 0xFF)";
      case SocksServerError::auth_bad_version:
        return "malformed username/password request (RFC 1929 version byte is not 1)";
      case SocksServerError::empty_user:
        return "empty user name (RFC 1929 ULEN 0)";
      case SocksServerError::empty_password:
        return "empty password (RFC 1929 PLEN 0)";
      case SocksServerError::auth_failed:
        return "authentication failed (unknown user or wrong password)";
      case SocksServerError::socks4_needs_auth:
        return "SOCKS4 client refused: authentication is required and SOCKS4 has none";
      case SocksServerError::bad_request_version:
        return "malformed SOCKS5 request (version byte is not 5)";
      case SocksServerError::command_not_supported:
        return "command not supported (served: CONNECT, and BIND and SOCKS5 UDP ASSOCIATE where "
               "allowed)";
      case SocksServerError::address_type_not_supported:
        return "address type not supported (SOCKS5 ATYP is not 1, 3 or 4)";
      case SocksServerError::invalid_name:
        return "requested host name is empty or contains a control character or space";
      case SocksServerError::userid_too_long:
        return "SOCKS4 user id longer than 255 bytes";
      case SocksServerError::name_too_long:
        return "SOCKS4a host name longer than 255 bytes";
    }
    return "unknown SOCKS server error";
  }
};

// The requested name goes into logs, DNS queries and the next hop's request: control bytes and
// spaces have no business in any of them.
bool valid_name(std::string_view name) {
  return !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
  });
}

}  // namespace

const std::error_category& socks_server_category() {
  static const SocksServerCategory c;
  return c;
}

std::error_code make_error_code(SocksServerError e) {
  return {static_cast<int>(e), socks_server_category()};
}

std::string_view to_string(SocksVersion version) {
  switch (version) {
    case SocksVersion::socks4:
      return "SOCKS4";
    case SocksVersion::socks4a:
      return "SOCKS4a";
    case SocksVersion::socks5:
      return "SOCKS5";
  }
  return "SOCKS";
}

SocksServerHandshake::SocksServerHandshake(SocksServerOptions options)
    : options_(std::move(options)) {}

std::vector<std::uint8_t> SocksServerHandshake::encode_reply(SocksVersion version, std::uint8_t rep,
                                                             const HostPort& bound) {
  if (version != SocksVersion::socks5) {
    // VN 0, CD, DSTPORT, DSTIP; clients ignore the address of a CONNECT reply.
    std::vector<std::uint8_t> out{
        0x00, rep == kRepSucceeded ? kSocks4Granted : kSocks4Rejected, 0, 0, 0, 0, 0, 0};
    std::array<std::uint8_t, 4> v4{};
    if (rep == kRepSucceeded && parse_ipv4_literal(bound.host, v4)) {
      out[2] = static_cast<std::uint8_t>(bound.port >> 8);
      out[3] = static_cast<std::uint8_t>(bound.port & 0xFF);
      std::copy(v4.begin(), v4.end(), out.begin() + 4);
    }
    return out;
  }
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT.
  std::vector<std::uint8_t> out{kSocks5, rep, 0x00};
  if (!is_ipv4_literal(bound.host) && !is_ipv6_literal(bound.host)) {
    out.insert(out.end(), {socks5::kAtypIpv4, 0, 0, 0, 0, 0, 0});
    return out;
  }
  if (socks5::encode_address(bound, out)) {
    out.resize(3);
    out.insert(out.end(), {socks5::kAtypIpv4, 0, 0, 0, 0, 0, 0});
  }
  return out;
}

std::vector<std::uint8_t> SocksServerHandshake::bind_reply(std::uint8_t rep,
                                                           const HostPort& bound) const {
  std::vector<std::uint8_t> out{kSocks5, rep, 0x00};
  if (request_.version != SocksVersion::socks5 || rep != kRepSucceeded ||
      is_ipv4_literal(bound.host) || is_ipv6_literal(bound.host) ||
      socks5::encode_address(bound, out)) {
    return reply(rep, bound);
  }
  return out;
}

Step SocksServerHandshake::fail(std::error_code ec, Stage stage) {
  state_ = State::failed;
  ec_ = ec;
  fail_stage_ = stage;
  return Step::fail(ec, stage);
}

Stage SocksServerHandshake::stage_of(State state) {
  // Method negotiation and RFC 1929 are the auth stage; everything about the target is request.
  switch (state) {
    case State::greeting:
    case State::methods:
    case State::auth_head:
    case State::auth_user:
    case State::auth_password:
      return Stage::auth;
    default:
      return Stage::request;
  }
}

Step SocksServerHandshake::expect(State state, std::size_t size) {
  state_ = state;
  buf_.clear();
  want_ = size;
  return Step::recv_exactly(size, stage_of(state));
}

Step SocksServerHandshake::answer(std::vector<std::uint8_t> bytes, State next,
                                  std::size_t next_size, Stage stage) {
  state_ = State::sending;
  next_ = next;
  next_size_ = next_size;
  ec_ = {};
  return Step::send(std::move(bytes), stage);
}

Step SocksServerHandshake::refuse(std::vector<std::uint8_t> bytes, SocksServerError why,
                                  Stage stage) {
  // The answer goes out first; the failure is reported once it is written.
  state_ = State::sending;
  ec_ = why;
  fail_stage_ = stage;
  return Step::send(std::move(bytes), stage);
}

Step SocksServerHandshake::refuse_socks4(SocksServerError why) {
  return refuse(encode_reply(SocksVersion::socks4, kRepGeneralFailure, {}), why, Stage::request);
}

Step SocksServerHandshake::refuse_socks5(std::uint8_t rep, SocksServerError why) {
  return refuse(encode_reply(SocksVersion::socks5, rep, {}), why, Stage::request);
}

Step SocksServerHandshake::start() {
  request_ = {};
  field_.clear();
  ec_ = {};
  gssapi_ = false;
  if (options_.request_only) {
    request_.user = options_.user;
    return expect(State::request_head, socks5::kHeadSize);
  }
  return expect(State::greeting, kGreetingSize);
}

Step SocksServerHandshake::resume(std::span<const std::uint8_t> received) {
  switch (state_) {
    case State::done:
      return Step::done();
    case State::failed:
      return Step::fail(ec_, fail_stage_);
    case State::sending:
      if (!received.empty()) {
        return fail(std::make_error_code(std::errc::invalid_argument), fail_stage_);
      }
      if (ec_) {
        return fail(ec_, fail_stage_);  // the refusal is written
      }
      if (next_ == State::done) {
        state_ = State::done;
        return Step::done();
      }
      return expect(next_, next_size_);
    default:
      break;
  }
  const Stage stage = stage_of(state_);
  // More than asked for is a runner bug: those bytes would be the client's payload.
  if (received.size() > want_ - buf_.size()) {
    return fail(std::make_error_code(std::errc::invalid_argument), stage);
  }
  buf_.insert(buf_.end(), received.begin(), received.end());
  if (buf_.size() < want_) {
    return Step::recv_exactly(want_ - buf_.size(), stage);
  }
  switch (state_) {
    case State::greeting:
      return on_greeting();
    case State::methods:
      return on_methods();
    case State::auth_head:
      return on_auth_head();
    case State::auth_user:
      return on_auth_user();
    case State::auth_password:
      return on_auth_password();
    case State::request_head:
      return on_request_head();
    case State::request_tail:
      return on_request_tail();
    case State::socks4_head:
      return on_socks4_head();
    default:
      return on_socks4_byte();
  }
}

Step SocksServerHandshake::on_greeting() {
  if (buf_[0] == kSocks5) {
    // RFC 1928 §3: VER NMETHODS METHODS. No method offered: none acceptable.
    request_.version = SocksVersion::socks5;
    if (buf_[1] == 0) {
      return refuse({kSocks5, kMethodNoAcceptable}, SocksServerError::no_acceptable_method,
                    Stage::auth);
    }
    return expect(State::methods, buf_[1]);
  }
  if (buf_[0] == kSocks4) {
    // Keep VN and CD; read the rest of the fixed head.
    request_.version = SocksVersion::socks4;
    state_ = State::socks4_head;
    want_ = kSocks4HeadSize;
    return Step::recv_exactly(kSocks4HeadSize - buf_.size(), Stage::request);
  }
  return fail(SocksServerError::bad_version, Stage::auth);
}

Step SocksServerHandshake::on_methods() {
  const auto offered = [this](std::uint8_t method) {
    return std::find(buf_.begin(), buf_.end(), method) != buf_.end();
  };
  if (options_.offer_gssapi && offered(kMethodGssapi)) {
    gssapi_ = true;
    return answer({kSocks5, kMethodGssapi}, State::done, 0, Stage::auth);
  }
  // Only a method the client offered may be chosen; with users configured, only RFC 1929, and
  // with GSS-API only, nothing else.
  const std::uint8_t wanted = options_.check_password ? kMethodUserPass
                              : options_.offer_gssapi ? kMethodNoAcceptable
                                                      : kMethodNone;
  if (wanted == kMethodNoAcceptable || !offered(wanted)) {
    return refuse({kSocks5, kMethodNoAcceptable}, SocksServerError::no_acceptable_method,
                  Stage::auth);
  }
  if (wanted == kMethodUserPass) {
    return answer({kSocks5, wanted}, State::auth_head, 2, Stage::auth);
  }
  return answer({kSocks5, wanted}, State::request_head, socks5::kHeadSize, Stage::auth);
}

Step SocksServerHandshake::on_auth_head() {
  // RFC 1929 §2: VER ULEN UNAME PLEN PASSWD; ULEN and PLEN are 1..255.
  if (buf_[0] != kAuthVersion) {
    return refuse({kAuthVersion, kAuthFailure}, SocksServerError::auth_bad_version, Stage::auth);
  }
  if (buf_[1] == 0) {
    return refuse({kAuthVersion, kAuthFailure}, SocksServerError::empty_user, Stage::auth);
  }
  return expect(State::auth_user, std::size_t{buf_[1]} + 1);  // UNAME and PLEN
}

Step SocksServerHandshake::on_auth_user() {
  request_.user.assign(buf_.begin(), buf_.end() - 1);
  const std::uint8_t plen = buf_.back();
  if (plen == 0) {
    return refuse({kAuthVersion, kAuthFailure}, SocksServerError::empty_password, Stage::auth);
  }
  return expect(State::auth_password, plen);
}

Step SocksServerHandshake::on_auth_password() {
  const std::string_view password(reinterpret_cast<const char*>(buf_.data()), buf_.size());
  const bool ok = options_.check_password(request_.user, password);
  std::fill(buf_.begin(), buf_.end(), 0);  // do not keep the password around
  if (!ok) {
    return refuse({kAuthVersion, kAuthFailure}, SocksServerError::auth_failed, Stage::auth);
  }
  return answer({kAuthVersion, kAuthOk}, State::request_head, socks5::kHeadSize, Stage::auth);
}

Step SocksServerHandshake::on_request_head() {
  // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT. RSV is ignored, as clients are lax there.
  const auto head =
      socks5::read_head(std::span<const std::uint8_t>(buf_).first<socks5::kHeadSize>());
  if (head.version != kSocks5) {
    return fail(SocksServerError::bad_request_version, Stage::request);
  }
  const bool udp = head.code == kCmdUdpAssociate && options_.allow_udp_associate;
  const bool bind = head.code == kCmdBind && options_.allow_bind;
  if (head.code != kCmdConnect && !udp && !bind) {
    return refuse_socks5(kRepCommandNotSupported, SocksServerError::command_not_supported);
  }
  request_.command =
      udp ? SocksCommand::udp_associate : (bind ? SocksCommand::bind : SocksCommand::connect);
  if (head.address_ec == Socks5Error::bad_address_type) {
    return refuse_socks5(kRepAddressTypeNotSupported, SocksServerError::address_type_not_supported);
  }
  if (head.address_ec) {
    return refuse_socks5(kRepGeneralFailure, SocksServerError::invalid_name);  // domain length 0
  }
  state_ = State::request_tail;
  want_ = head.size;
  return Step::recv_exactly(want_ - buf_.size(), Stage::request);
}

Step SocksServerHandshake::on_request_tail() {
  const auto decoded = socks5::read_message_address(buf_);
  if (decoded.ec) {
    return refuse_socks5(kRepGeneralFailure, SocksServerError::invalid_name);
  }
  if (buf_[socks5::kAddressOffset] == socks5::kAtypDomain && !valid_name(decoded.address.host)) {
    return refuse_socks5(kRepGeneralFailure, SocksServerError::invalid_name);
  }
  request_.version = SocksVersion::socks5;
  request_.target = decoded.address;
  state_ = State::done;
  return Step::done();
}

Step SocksServerHandshake::on_socks4_head() {
  // VN CD DSTPORT DSTIP, then USERID NUL (and for SOCKS4a, the name NUL).
  if (options_.check_password || options_.offer_gssapi) {
    return refuse_socks4(SocksServerError::socks4_needs_auth);
  }
  const bool bind = buf_[1] == kCmdBind && options_.allow_bind;
  if (buf_[1] != kCmdConnect && !bind) {
    return refuse_socks4(SocksServerError::command_not_supported);
  }
  request_.command = bind ? SocksCommand::bind : SocksCommand::connect;
  request_.target.port = static_cast<std::uint16_t>((buf_[2] << 8) | buf_[3]);
  std::copy(buf_.begin() + 4, buf_.begin() + 8, socks4_ip_);
  field_.clear();
  return expect(State::socks4_userid, 1);
}

Step SocksServerHandshake::on_socks4_byte() {
  const bool userid = state_ == State::socks4_userid;
  const auto c = static_cast<char>(buf_[0]);
  if (c != '\0') {
    if (field_.size() == kMaxField) {
      return refuse_socks4(userid ? SocksServerError::userid_too_long
                                  : SocksServerError::name_too_long);
    }
    field_.push_back(c);
    return expect(state_, 1);
  }
  if (userid) {
    request_.user = std::move(field_);
    field_.clear();
    // SOCKS4a: DSTIP 0.0.0.x with x != 0 means a name follows the USERID.
    if (socks4_ip_[0] == 0 && socks4_ip_[1] == 0 && socks4_ip_[2] == 0 && socks4_ip_[3] != 0) {
      return expect(State::socks4_name, 1);
    }
    request_.target.host = std::to_string(socks4_ip_[0]) + "." + std::to_string(socks4_ip_[1]) +
                           "." + std::to_string(socks4_ip_[2]) + "." +
                           std::to_string(socks4_ip_[3]);
    state_ = State::done;
    return Step::done();
  }
  if (!valid_name(field_)) {
    return refuse_socks4(SocksServerError::invalid_name);
  }
  request_.version = SocksVersion::socks4a;
  request_.target.host = std::move(field_);
  field_.clear();
  state_ = State::done;
  return Step::done();
}

}  // namespace hc::proto
