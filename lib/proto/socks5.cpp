#include "proto/socks5.hpp"

#include <utility>

#include "proto/errors.hpp"
#include "proto/rfc1929.hpp"
#include "proto/socks5_address.hpp"
#include "proto/socks5_head.hpp"

namespace hc::proto {
namespace {

constexpr std::uint8_t kVersion = 0x05;
// RFC 1928 §3: method codes.
constexpr std::uint8_t kMethodNone = 0x00;
constexpr std::uint8_t kMethodGssapi = 0x01;
constexpr std::uint8_t kMethodUserPass = 0x02;
constexpr std::uint8_t kMethodNoAcceptable = 0xFF;

constexpr std::size_t kMethodReplySize = 2;

// Method negotiation and RFC 1929 belong to the auth stage; the command and its reply to request.
Stage stage_of(bool auth) {
  return auth ? Stage::auth : Stage::request;
}

}  // namespace

Socks5Connect::Socks5Connect(HostPort target, std::optional<Credentials> creds,
                             Socks5Options options)
    : target_(std::move(target)), creds_(std::move(creds)), options_(options) {}

Step Socks5Connect::fail(std::error_code ec, Stage stage) {
  state_ = State::failed;
  ec_ = ec;
  fail_stage_ = stage;
  return Step::fail(ec, stage);
}

Step Socks5Connect::start() {
  state_ = State::sending;
  chosen_method_ = kMethodNoAcceptable;
  auth_request_.clear();
  command_request_.clear();
  reply_.clear();
  want_ = 0;
  ec_ = {};
  bound_ = {};

  // Everything is encoded before the first byte goes out, so a bad name or credential never
  // leaves a half-negotiated connection behind (and in pipelined mode it could not be undone).
  if (creds_) {
    if (auto ec = rfc1929::encode_request(*creds_, auth_request_)) {
      return fail(ec, Stage::auth);
    }
  }
  // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT.
  command_request_ = {kVersion, static_cast<std::uint8_t>(options_.command), 0x00};
  // The GSS-API greeting has no request: its target is never sent.
  if (auto ec = options_.part == Socks5Part::gssapi_greeting
                    ? std::error_code{}
                    : socks5::encode_address(target_, command_request_)) {
    return fail(ec, Stage::request);
  }

  if (options_.part == Socks5Part::request) {
    return request_step();
  }
  // RFC 1928 §3: VER NMETHODS METHODS.
  std::vector<std::uint8_t> out{kVersion};
  if (options_.part == Socks5Part::gssapi_greeting) {
    out.insert(out.end(), {1, kMethodGssapi});
  } else if (options_.pipelined) {
    // Only one method can be pipelined: the auth bytes that follow must match the server's choice.
    out.push_back(1);
    out.push_back(creds_ ? kMethodUserPass : kMethodNone);
    out.insert(out.end(), auth_request_.begin(), auth_request_.end());
    out.insert(out.end(), command_request_.begin(), command_request_.end());
  } else if (creds_) {
    out.insert(out.end(), {2, kMethodNone, kMethodUserPass});
  } else {
    out.insert(out.end(), {1, kMethodNone});
  }
  after_send_ = State::method_reply;
  return Step::send(std::move(out), Stage::auth);
}

Step Socks5Connect::expect(State state, std::size_t size) {
  state_ = state;
  reply_.clear();
  want_ = size;
  return Step::recv_exactly(size,
                            stage_of(state == State::method_reply || state == State::auth_reply));
}

Step Socks5Connect::after_send() {
  switch (after_send_) {
    case State::method_reply:
      return expect(State::method_reply, kMethodReplySize);
    case State::auth_reply:
      return expect(State::auth_reply, rfc1929::kReplySize);
    default:
      return expect(State::reply_head, socks5::kHeadSize);
  }
}

Step Socks5Connect::request_step() {
  state_ = State::sending;
  after_send_ = State::reply_head;
  return Step::send(command_request_, Stage::request);
}

Step Socks5Connect::resume(std::span<const std::uint8_t> received) {
  const bool auth_stage = state_ == State::method_reply || state_ == State::auth_reply;
  switch (state_) {
    case State::done:
      return Step::done();
    case State::failed:
      return Step::fail(ec_, fail_stage_);
    case State::sending:
      if (!received.empty()) {
        return fail(std::make_error_code(std::errc::invalid_argument), Stage::request);
      }
      return after_send();
    case State::method_reply:
    case State::auth_reply:
    case State::reply_head:
    case State::reply_tail:
      break;
  }

  // Tolerate a runner that delivers a reply in pieces; more than asked for is a runner bug (the
  // extra bytes would be the next reply or tunnel payload, which must not be swallowed).
  if (received.size() > want_ - reply_.size()) {
    return fail(std::make_error_code(std::errc::invalid_argument), stage_of(auth_stage));
  }
  reply_.insert(reply_.end(), received.begin(), received.end());
  if (reply_.size() < want_) {
    return Step::recv_exactly(want_ - reply_.size(), stage_of(auth_stage));
  }

  switch (state_) {
    case State::method_reply:
      return on_method_reply();
    case State::auth_reply:
      return on_auth_reply();
    case State::reply_head:
      return on_reply_head();
    default:
      return on_reply_tail();
  }
}

Step Socks5Connect::on_method_reply() {
  // RFC 1928 §3: VER METHOD.
  if (reply_[0] != kVersion) {
    return fail(Socks5Error::bad_version, Stage::auth);
  }
  const std::uint8_t method = reply_[1];
  if (method == kMethodNoAcceptable) {
    return fail(Socks5Error::no_acceptable_method, Stage::auth);
  }
  if (options_.part == Socks5Part::gssapi_greeting) {
    if (method != kMethodGssapi) {
      return fail(Socks5Error::method_not_offered, Stage::auth);
    }
    chosen_method_ = method;
    state_ = State::done;
    return Step::done();
  }
  const bool offered = options_.pipelined
                           ? method == (creds_ ? kMethodUserPass : kMethodNone)
                           : method == kMethodNone || (creds_ && method == kMethodUserPass);
  if (!offered) {
    return fail(Socks5Error::method_not_offered, Stage::auth);
  }
  chosen_method_ = method;
  if (method == kMethodUserPass) {
    if (options_.pipelined) {
      return expect(State::auth_reply, rfc1929::kReplySize);
    }
    state_ = State::sending;
    after_send_ = State::auth_reply;
    return Step::send(auth_request_, Stage::auth);
  }
  return options_.pipelined ? expect(State::reply_head, socks5::kHeadSize) : request_step();
}

Step Socks5Connect::on_auth_reply() {
  const std::span<const std::uint8_t, rfc1929::kReplySize> reply(reply_.data(),
                                                                 rfc1929::kReplySize);
  if (auto ec = rfc1929::parse_reply(reply)) {
    return fail(ec, Stage::auth);
  }
  return options_.pipelined ? expect(State::reply_head, socks5::kHeadSize) : request_step();
}

Step Socks5Connect::on_reply_head() {
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT.
  const auto head =
      socks5::read_head(std::span<const std::uint8_t>(reply_).first<socks5::kHeadSize>());
  if (head.version != kVersion) {
    return fail(Socks5Error::bad_version, Stage::request);
  }
  // REP before ATYP: some servers put junk in the address of a failed reply, and the reply
  // code is the useful part of the error.
  if (head.code != 0x00) {
    return fail(socks5_reply(head.code), Stage::request);
  }
  if (head.address_ec) {
    return fail(head.address_ec, Stage::request);
  }
  want_ = head.size;
  state_ = State::reply_tail;
  return Step::recv_exactly(want_ - reply_.size(), Stage::request);
}

Step Socks5Connect::on_reply_tail() {
  const auto decoded = socks5::read_message_address(reply_);
  if (decoded.ec) {
    return fail(decoded.ec, Stage::request);
  }
  bound_ = decoded.address;
  state_ = State::done;
  return Step::done();
}

}  // namespace hc::proto
