/// SOCKS5 (RFC 1928) client handshake: method negotiation, optional RFC 1929 auth, and one
/// command (CONNECT, or UDP ASSOCIATE for the UDP relay). With BIND it stops after the first
/// reply; Socks5Bind (proto/socks_bind.hpp) reads the second.
///
/// Reads are exact: method reply 2 bytes, auth reply 2 bytes, command reply 5 bytes (VER REP RSV
/// ATYP and the first address byte, which is a domain's length) then the rest, so no payload
/// byte that follows the reply is ever consumed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proto/step.hpp"
#include "proto/types.hpp"

namespace hc::proto {

enum class Socks5Command : std::uint8_t { connect = 0x01, bind = 0x02, udp_associate = 0x03 };

/// GSS-API (RFC 1961) runs between the method choice and the request through its own codec
/// (proto/socks5_gssapi.hpp), and with a protection level the request goes through its layer:
/// `gssapi_greeting` offers method 0x01 alone and is done once the server chose it;
/// `request` starts at the request, the method sub-negotiation being done.
enum class Socks5Part : std::uint8_t { whole, gssapi_greeting, request };

struct Socks5Options {
  Socks5Command command = Socks5Command::connect;
  /// Offer exactly one method and send greeting, auth and request in the first write.
  bool pipelined = false;
  Socks5Part part = Socks5Part::whole;
};

class Socks5Connect final : public Handshake {
 public:
  Socks5Connect(HostPort target, std::optional<Credentials> creds, Socks5Options options = {});

  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  /// BND.ADDR:BND.PORT from the final reply (valid after done).
  const HostPort& bound() const { return bound_; }

 private:
  enum class State : std::uint8_t {
    sending,
    method_reply,
    auth_reply,
    reply_head,
    reply_tail,
    done,
    failed
  };
  Step after_send();
  Step request_step();
  Step fail(std::error_code ec, Stage stage);
  Step expect(State state, std::size_t size);
  Step on_method_reply();
  Step on_auth_reply();
  Step on_reply_head();
  Step on_reply_tail();

  HostPort target_;
  std::optional<Credentials> creds_;
  Socks5Options options_;
  State state_ = State::sending;
  State after_send_ = State::method_reply;  // what to read once the pending send is written
  std::uint8_t chosen_method_ = 0xFF;
  std::vector<std::uint8_t> auth_request_;     // RFC 1929 request, encoded up front
  std::vector<std::uint8_t> command_request_;  // VER CMD RSV ATYP ADDR PORT, encoded up front
  std::vector<std::uint8_t> reply_;            // the reply being read, so far
  std::size_t want_ = 0;                       // total size of the reply being read
  std::error_code ec_;                         // the failure, repeated if resumed after it
  Stage fail_stage_ = Stage::request;
  HostPort bound_;
};

}  // namespace hc::proto
