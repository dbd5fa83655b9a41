/// SOCKS BIND, client side: SOCKS5 CMD=0x02 (RFC 1928 §4, §6) and SOCKS4/4a CD=2 (SOCKS4
/// protocol document, "BIND"). The hop opens a listening port and answers twice: first with
/// where it listens, then, once a peer has connected, with the peer's address. From then on the
/// stream carries that connection.
///
/// The two replies are two runs of the same Handshake, so the caller can act in between (print
/// the listening address, pass it on to a SOCKS client):
///
///   1. start()/resume() as for CONNECT, up to `done`; phase() is then waiting_for_peer and
///      bound() is where the hop listens. bound_unspecified(): BND.ADDR was 0.0.0.0 or ::, which
///      means "the hop's own address"; the caller substitutes the hop's address it connected to.
///   2. resume({}) begins the wait for the second reply (chain::run_handshake with
///      first_send_done = true does exactly that); on `done`, phase() is done and peer() is the
///      connecting host. A refusal in the second reply fails at Stage::accept.
///
/// The wait in 2 has no bound of its own (codecs keep no time): the caller must apply the user's
/// --accept-timeout around it, and report a timeout at Stage::accept.
///
/// Reads are exact, as in Socks5Connect and Socks4Connect: no byte after the second reply is ever
/// consumed, so payload the peer sent early stays in the stream and leftover() is always empty.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "proto/socks4.hpp"
#include "proto/socks5.hpp"
#include "proto/step.hpp"
#include "proto/types.hpp"

namespace hc::proto {

enum class BindPhase : std::uint8_t {
  request,           ///< negotiating, or waiting for the first reply
  waiting_for_peer,  ///< first reply read: bound() is set; resume({}) to wait for the peer
  accepting,         ///< reading the second reply
  done,              ///< second reply read: peer() is set; the stream is the peer's
  failed,
};

/// True for 0.0.0.0 and ::, which a BIND reply uses for "the server's own address".
bool is_unspecified_address(const std::string& host);

class Socks5Bind final : public Handshake {
 public:
  /// `expected_peer`: DST.ADDR/DST.PORT of the request, the host expected to connect (servers
  /// may use it to filter; 0.0.0.0:0 when unknown).
  Socks5Bind(HostPort expected_peer, std::optional<Credentials> creds, bool pipelined = false);

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  BindPhase phase() const { return phase_; }
  /// BND.ADDR:BND.PORT of the first reply: where the hop listens (valid from waiting_for_peer).
  const HostPort& bound() const { return bound_; }
  bool bound_unspecified() const { return is_unspecified_address(bound_.host); }
  /// BND.ADDR:BND.PORT of the second reply: the connecting host (valid once done).
  const HostPort& peer() const { return peer_; }

 private:
  Step fail(std::error_code ec, Stage stage);
  Step after_request(Step step);
  Step on_second_reply(std::span<const std::uint8_t> received);
  Step on_second_head();
  Step on_second_tail();

  Socks5Connect request_;  // greeting, auth, BIND request and the first reply
  BindPhase phase_ = BindPhase::request;
  std::vector<std::uint8_t> reply_;  // the second reply, so far
  std::size_t want_ = 0;             // its total size, once its head is read
  HostPort bound_;
  HostPort peer_;
  std::error_code ec_;  // the failure, repeated if resumed after it
  Stage fail_stage_ = Stage::request;
};

class Socks4Bind final : public Handshake {
 public:
  /// `expected_peer`: DSTIP/DSTPORT of the request, the host expected to connect (the server may
  /// refuse any other). `allow_name`: SOCKS4a, the expected peer may be a name.
  Socks4Bind(HostPort expected_peer, std::string userid, bool allow_name);

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  BindPhase phase() const { return phase_; }
  /// DSTIP:DSTPORT of the first reply: where the hop listens (valid from waiting_for_peer).
  const HostPort& bound() const { return bound_; }
  bool bound_unspecified() const { return is_unspecified_address(bound_.host); }
  /// DSTIP:DSTPORT of the second reply: the connecting host, as the server reports it.
  const HostPort& peer() const { return peer_; }

 private:
  Step fail(std::error_code ec, Stage stage);
  Step on_reply(std::span<const std::uint8_t> received);

  HostPort expected_peer_;
  std::string userid_;
  bool allow_name_;
  BindPhase phase_ = BindPhase::request;
  bool sending_ = false;  // the request is out and not yet acknowledged by resume({})
  std::array<std::uint8_t, kSocks4ReplySize> reply_{};
  std::size_t have_ = 0;  // bytes of the reply being read
  HostPort bound_;
  HostPort peer_;
  std::error_code ec_;
  Stage fail_stage_ = Stage::request;
};

}  // namespace hc::proto
