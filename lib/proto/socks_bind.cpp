#include "proto/socks_bind.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "proto/errors.hpp"
#include "proto/socks5_address.hpp"
#include "proto/socks5_head.hpp"

namespace hc::proto {
namespace {

constexpr std::uint8_t kSocks5Version = 0x05;

std::error_code runner_bug() {
  return std::make_error_code(std::errc::invalid_argument);
}

// SOCKS4 reply: VN CD DSTPORT(2) DSTIP(4); CONNECT ignores the address, BIND needs it.
HostPort socks4_reply_address(std::span<const std::uint8_t, kSocks4ReplySize> reply) {
  HostPort hp;
  hp.port = static_cast<std::uint16_t>(reply[2] << 8 | reply[3]);
  for (std::size_t i = 4; i < kSocks4ReplySize; ++i) {
    hp.host += (i > 4 ? "." : "") + std::to_string(reply[i]);
  }
  return hp;
}

}  // namespace

bool is_unspecified_address(const std::string& host) {
  return host == "0.0.0.0" || host == "::";
}

// --- SOCKS5 ----------------------------------------------------------------------------------

Socks5Bind::Socks5Bind(HostPort expected_peer, std::optional<Credentials> creds, bool pipelined)
    : request_(std::move(expected_peer), std::move(creds),
               Socks5Options{Socks5Command::bind, pipelined}) {}

Step Socks5Bind::fail(std::error_code ec, Stage stage) {
  phase_ = BindPhase::failed;
  ec_ = ec;
  fail_stage_ = stage;
  return Step::fail(ec, stage);
}

Step Socks5Bind::start() {
  phase_ = BindPhase::request;
  reply_.clear();
  want_ = 0;
  bound_ = {};
  peer_ = {};
  ec_ = {};
  return after_request(request_.start());
}

// Socks5Connect runs everything up to the first reply; its `done` is our pause.
Step Socks5Bind::after_request(Step step) {
  if (step.kind == Step::Kind::fail) {
    return fail(step.ec, step.stage);
  }
  if (step.kind == Step::Kind::done) {
    // RFC 1928 §4: "the first [reply] is sent after the server creates and binds a new socket.
    // The BND.PORT field contains the port number that the SOCKS server assigned to listen".
    bound_ = request_.bound();
    phase_ = BindPhase::waiting_for_peer;
  }
  return step;
}

Step Socks5Bind::resume(std::span<const std::uint8_t> received) {
  switch (phase_) {
    case BindPhase::request:
      return after_request(request_.resume(received));
    case BindPhase::waiting_for_peer:
      if (!received.empty()) {
        return fail(runner_bug(), Stage::accept);
      }
      phase_ = BindPhase::accepting;
      reply_.clear();
      want_ = socks5::kHeadSize;
      return Step::recv_exactly(want_, Stage::accept);
    case BindPhase::accepting:
      return on_second_reply(received);
    case BindPhase::done:
      return Step::done();
    case BindPhase::failed:
      break;
  }
  return Step::fail(ec_, fail_stage_);
}

Step Socks5Bind::on_second_reply(std::span<const std::uint8_t> received) {
  // More than asked for would be the peer's payload, which must stay in the stream.
  if (received.size() > want_ - reply_.size()) {
    return fail(runner_bug(), Stage::accept);
  }
  reply_.insert(reply_.end(), received.begin(), received.end());
  if (reply_.size() < want_) {
    return Step::recv_exactly(want_ - reply_.size(), Stage::accept);
  }
  // A head's size is always more than kHeadSize, so want_ tells the two reads apart.
  return want_ == socks5::kHeadSize ? on_second_head() : on_second_tail();
}

Step Socks5Bind::on_second_head() {
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT, as in the first reply.
  const auto head =
      socks5::read_head(std::span<const std::uint8_t>(reply_).first<socks5::kHeadSize>());
  if (head.version != kSocks5Version) {
    return fail(Socks5Error::bad_version, Stage::accept);
  }
  // RFC 1928 §4: "the second reply occurs only after the anticipated incoming connection
  // succeeds or fails"; REP first, as a failed reply's address may be junk.
  if (head.code != 0x00) {
    return fail(socks5_reply(head.code), Stage::accept);
  }
  if (head.address_ec) {
    return fail(head.address_ec, Stage::accept);
  }
  want_ = head.size;
  return Step::recv_exactly(want_ - reply_.size(), Stage::accept);
}

Step Socks5Bind::on_second_tail() {
  // RFC 1928 §4: "BND.PORT and BND.ADDR fields contain the address and port number of the
  // connecting host".
  const auto decoded = socks5::read_message_address(reply_);
  if (decoded.ec) {
    return fail(decoded.ec, Stage::accept);
  }
  peer_ = decoded.address;
  phase_ = BindPhase::done;
  return Step::done();
}

// --- SOCKS4/4a -------------------------------------------------------------------------------

Socks4Bind::Socks4Bind(HostPort expected_peer, std::string userid, bool allow_name)
    : expected_peer_(std::move(expected_peer)),
      userid_(std::move(userid)),
      allow_name_(allow_name) {}

Step Socks4Bind::fail(std::error_code ec, Stage stage) {
  phase_ = BindPhase::failed;
  ec_ = ec;
  fail_stage_ = stage;
  return Step::fail(ec, stage);
}

Step Socks4Bind::start() {
  phase_ = BindPhase::request;
  sending_ = false;
  have_ = 0;
  bound_ = {};
  peer_ = {};
  ec_ = {};
  // SOCKS4: VN=4 CD=2 DSTPORT DSTIP USERID NUL, DSTIP/DSTPORT being the expected peer. SOCKS4a
  // extends BIND as it does CONNECT, so with it the peer may be a name.
  std::vector<std::uint8_t> request;
  if (auto ec = Socks4Connect::encode(expected_peer_, userid_, allow_name_, request,
                                      Socks4Command::bind)) {
    return fail(ec, Stage::request);
  }
  sending_ = true;
  return Step::send(std::move(request), Stage::request);
}

Step Socks4Bind::resume(std::span<const std::uint8_t> received) {
  const Stage stage = phase_ == BindPhase::request ? Stage::request : Stage::accept;
  switch (phase_) {
    case BindPhase::request:
      if (sending_) {
        if (!received.empty()) {
          return fail(runner_bug(), stage);
        }
        sending_ = false;
        return Step::recv_exactly(kSocks4ReplySize, stage);
      }
      return on_reply(received);
    case BindPhase::waiting_for_peer:
      if (!received.empty()) {
        return fail(runner_bug(), stage);
      }
      phase_ = BindPhase::accepting;
      have_ = 0;
      return Step::recv_exactly(kSocks4ReplySize, stage);
    case BindPhase::accepting:
      return on_reply(received);
    case BindPhase::done:
      return Step::done();
    case BindPhase::failed:
      break;
  }
  return Step::fail(ec_ ? ec_ : runner_bug(), fail_stage_);
}

// Both replies: VN=0 CD DSTPORT DSTIP, 8 bytes, CD 90 granted, 91..93 refused.
Step Socks4Bind::on_reply(std::span<const std::uint8_t> received) {
  const Stage stage = phase_ == BindPhase::request ? Stage::request : Stage::accept;
  if (received.size() > kSocks4ReplySize - have_) {
    return fail(runner_bug(), stage);
  }
  std::copy(received.begin(), received.end(), reply_.begin() + static_cast<std::ptrdiff_t>(have_));
  have_ += received.size();
  if (have_ < kSocks4ReplySize) {
    return Step::recv_exactly(kSocks4ReplySize - have_, stage);
  }
  if (auto ec = Socks4Connect::parse_reply(reply_)) {
    return fail(ec, stage);
  }
  if (phase_ == BindPhase::request) {
    // SOCKS4, BIND: a granted first reply carries the port and address of the socket the server
    // waits on; an address of 0 (INADDR_ANY) stands for the SOCKS server's own address.
    bound_ = socks4_reply_address(reply_);
    phase_ = BindPhase::waiting_for_peer;
    return Step::done();
  }
  // The second reply comes once the anticipated connection is established (CD 91 if it came from
  // another host than DSTIP); its DSTIP:DSTPORT is the connecting host.
  peer_ = socks4_reply_address(reply_);
  phase_ = BindPhase::done;
  return Step::done();
}

}  // namespace hc::proto
