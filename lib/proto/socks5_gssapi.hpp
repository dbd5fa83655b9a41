/// SOCKS5 GSS-API method 0x01 (RFC 1961), sans-IO: the message format (section 3.3), the
/// context establishment and protection-level sub-negotiation for the client and the server,
/// and the per-message encapsulation (section 5) that carries everything after it when a
/// protection level was selected. The GSS calls go through GssContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "base/result.hpp"
#include "proto/gssapi_context.hpp"
#include "proto/step.hpp"

namespace hc::proto::gssapi {

/// MTYP, section 3.3 (1), 4.3 (2), 5 (3); 0xFF aborts (3.6).
enum class MessageType : std::uint8_t {
  context = 1,
  protection = 2,
  encapsulated = 3,
  abort = 0xFF
};

inline constexpr std::size_t kHeaderSize = 4;     ///< VER MTYP LEN(2)
inline constexpr std::size_t kMaxToken = 0xFFFF;  ///< LEN is two bytes

using Bytes = std::vector<std::uint8_t>;

/// VER=1 MTYP LEN TOKEN.
Result<Bytes, std::error_code> encode_message(MessageType type,
                                              std::span<const std::uint8_t> token);
/// The abort message a server sends before closing (section 3.6): VER=1 MTYP=0xFF.
Bytes abort_message();

/// Checks VER and that MTYP is `expected` from a message's first two bytes; MTYP 0xFF is the
/// peer's refusal. Handshakes read these two bytes alone: an abort has no LEN, and its sender
/// closes right after it.
std::error_code check_type(std::span<const std::uint8_t> head, MessageType expected);
/// LEN, the two bytes after VER MTYP.
std::size_t token_length(std::span<const std::uint8_t> length);

/// The client's side once the server chose method 0x01: tokens until the context is
/// established, then the protection level asked for, and the server's choice checked against
/// `required`. Reads are exact, so no byte after the last message is consumed.
class ClientNegotiation final : public Handshake {
 public:
  ClientNegotiation(GssContext& context, Protection asked, Protection required);
  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;
  /// The level the server selected (valid after done).
  Protection selected() const { return selected_; }

 private:
  enum class State : std::uint8_t { sent_token, type, length, token, sent_level, level };
  Step establish(std::span<const std::uint8_t> peer_token);
  Step send_level();
  Step expect(MessageType type);
  Step on_type(std::span<const std::uint8_t> received);
  Step on_length(std::span<const std::uint8_t> received);
  Step on_level(std::span<const std::uint8_t> token);
  Step fail(std::error_code ec);

  GssContext& context_;
  Protection asked_;
  Protection required_;
  Protection selected_ = Protection::none;
  State state_ = State::sent_token;
  MessageType expected_ = MessageType::context;
  bool complete_ = false;
  std::error_code failed_;
};

/// The server's side: the client's tokens until the context is established, then its
/// protection level, answered with the lower of it and `maximum`. A failure sends the abort
/// message first.
class ServerNegotiation final : public Handshake {
 public:
  ServerNegotiation(GssContext& context, Protection maximum);
  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;
  Protection selected() const { return selected_; }

 private:
  enum class State : std::uint8_t { type, length, token, sent_token, level, sent_level };
  Step on_type(std::span<const std::uint8_t> received);
  Step on_length(std::span<const std::uint8_t> received);
  Step on_token(std::span<const std::uint8_t> token);
  Step on_level(std::span<const std::uint8_t> token);
  Step refuse(std::error_code ec);
  Step expect(MessageType type);

  GssContext& context_;
  Protection maximum_;
  Protection selected_ = Protection::none;
  State state_ = State::type;
  MessageType expected_ = MessageType::context;
  bool complete_ = false;
  std::error_code failed_;  // sent the abort; fail once it is written
};

/// Section 5: user data as encapsulated messages, each within the mechanism's size limit.
Result<Bytes, std::error_code> encapsulate(GssContext& context, std::span<const std::uint8_t> data,
                                           Protection level);

/// Reads encapsulated messages from a byte stream: feed what arrived, take whole messages'
/// plaintext out. A message that does not unwrap, or unwraps without the confidentiality the
/// level promised, is an error; the stream is then unusable.
class Decapsulator {
 public:
  Decapsulator(GssContext& context, Protection level) : context_(context), level_(level) {}
  /// Appends received bytes (any split).
  void feed(std::span<const std::uint8_t> bytes);
  /// The next message's plaintext, nullopt until a whole message is buffered.
  Result<std::optional<Bytes>, std::error_code> next();
  /// Bytes buffered that are not yet a whole message.
  std::size_t pending() const { return buffer_.size() - consumed_; }

 private:
  GssContext& context_;
  Protection level_;
  Bytes buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace hc::proto::gssapi
