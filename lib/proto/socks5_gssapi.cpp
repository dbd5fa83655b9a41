#include "proto/socks5_gssapi.hpp"

#include <algorithm>

#include "proto/gssapi_errors.hpp"

namespace hc::proto {

const char* protection_name(Protection level) {
  switch (level) {
    case Protection::none:
      return "none";
    case Protection::integrity:
      return "integrity";
    case Protection::confidentiality:
      return "confidentiality";
  }
  return "unknown";
}

namespace gssapi {
namespace {

constexpr std::uint8_t kVersion = 1;  // RFC 1961 section 3.3: "ver" is 1

/// The protection level byte of section 4.3; 3 (selective per-message) is not supported.
Result<Protection, std::error_code> parse_level(std::span<const std::uint8_t> data) {
  if (data.size() != 1) {
    return failure(make_error_code(GssapiError::bad_protection_message));
  }
  if (data[0] > static_cast<std::uint8_t>(Protection::confidentiality)) {
    return failure(make_error_code(GssapiError::unknown_protection));
  }
  return static_cast<Protection>(data[0]);
}

/// Section 4.3: the level octet is wrapped without confidentiality.
Result<Bytes, std::error_code> level_message(GssContext& context, Protection level) {
  const std::uint8_t octet = static_cast<std::uint8_t>(level);
  auto wrapped = context.wrap(std::span(&octet, 1), false);
  if (!wrapped) {
    return failure(wrapped.error());
  }
  return encode_message(MessageType::protection, *wrapped);
}

}  // namespace

Result<Bytes, std::error_code> encode_message(MessageType type,
                                              std::span<const std::uint8_t> token) {
  if (token.size() > kMaxToken) {
    return failure(make_error_code(GssapiError::token_too_large));
  }
  Bytes out{kVersion, static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(token.size() >> 8),
            static_cast<std::uint8_t>(token.size() & 0xFF)};
  out.insert(out.end(), token.begin(), token.end());
  return out;
}

Bytes abort_message() {
  return {kVersion, static_cast<std::uint8_t>(MessageType::abort)};
}

std::error_code check_type(std::span<const std::uint8_t> head, MessageType expected) {
  if (head.size() >= 2 && head[1] == static_cast<std::uint8_t>(MessageType::abort)) {
    return make_error_code(GssapiError::refused);
  }
  if (head.size() < 2 || head[0] != kVersion) {
    return make_error_code(GssapiError::bad_version);
  }
  if (head[1] != static_cast<std::uint8_t>(expected)) {
    return make_error_code(GssapiError::unexpected_message_type);
  }
  return {};
}

std::size_t token_length(std::span<const std::uint8_t> length) {
  return static_cast<std::size_t>(length[0]) << 8 | length[1];
}

// --- client ------------------------------------------------------------------------------------

ClientNegotiation::ClientNegotiation(GssContext& context, Protection asked, Protection required)
    : context_(context), asked_(asked), required_(required) {}

Step ClientNegotiation::fail(std::error_code ec) {
  failed_ = ec;
  return Step::fail(ec, Stage::auth);
}

Step ClientNegotiation::start() {
  failed_ = {};
  complete_ = false;
  selected_ = Protection::none;
  return establish({});
}

/// Section 3.3: each token from gss_init_sec_context goes to the server; a reply is read only
/// while the mechanism needs one (curl and Dante do the same).
Step ClientNegotiation::establish(std::span<const std::uint8_t> peer_token) {
  auto progress = context_.establish(peer_token);
  if (!progress) {
    return fail(progress.error());
  }
  complete_ = progress->complete;
  if (progress->token.empty()) {
    return complete_ ? send_level() : fail(make_error_code(GssStatus::failure));
  }
  auto message = encode_message(MessageType::context, progress->token);
  if (!message) {
    return fail(message.error());
  }
  state_ = State::sent_token;
  return Step::send(std::move(*message), Stage::auth);
}

Step ClientNegotiation::send_level() {
  auto message = level_message(context_, asked_);
  if (!message) {
    return fail(message.error());
  }
  state_ = State::sent_level;
  return Step::send(std::move(*message), Stage::auth);
}

Step ClientNegotiation::expect(MessageType type) {
  expected_ = type;
  state_ = State::type;
  return Step::recv_exactly(2, Stage::auth);
}

Step ClientNegotiation::on_type(std::span<const std::uint8_t> received) {
  if (const std::error_code ec = check_type(received, expected_)) {
    return fail(ec);
  }
  state_ = State::length;
  return Step::recv_exactly(2, Stage::auth);
}

Step ClientNegotiation::on_length(std::span<const std::uint8_t> received) {
  const std::size_t length = token_length(received);
  if (length == 0) {
    return fail(make_error_code(GssapiError::empty_token));
  }
  state_ = expected_ == MessageType::context ? State::token : State::level;
  return Step::recv_exactly(length, Stage::auth);
}

Step ClientNegotiation::on_level(std::span<const std::uint8_t> token) {
  auto unwrapped = context_.unwrap(token);
  if (!unwrapped) {
    return fail(unwrapped.error());
  }
  auto level = parse_level(unwrapped->data);
  if (!level) {
    return fail(level.error());
  }
  if (*level < required_) {
    return fail(make_error_code(GssapiError::protection_too_weak));
  }
  selected_ = *level;
  return Step::done();
}

Step ClientNegotiation::resume(std::span<const std::uint8_t> received) {
  if (failed_) {
    return Step::fail(failed_, Stage::auth);
  }
  switch (state_) {
    case State::sent_token:
      return complete_ ? send_level() : expect(MessageType::context);
    case State::type:
      return on_type(received);
    case State::length:
      return on_length(received);
    case State::token:
      return establish(received);
    case State::sent_level:
      return expect(MessageType::protection);
    case State::level:
      return on_level(received);
  }
  return fail(make_error_code(GssStatus::failure));
}

// --- server ------------------------------------------------------------------------------------

ServerNegotiation::ServerNegotiation(GssContext& context, Protection maximum)
    : context_(context), maximum_(maximum) {}

Step ServerNegotiation::start() {
  failed_ = {};
  complete_ = false;
  selected_ = Protection::none;
  return expect(MessageType::context);
}

Step ServerNegotiation::expect(MessageType type) {
  expected_ = type;
  state_ = State::type;
  return Step::recv_exactly(2, Stage::auth);
}

Step ServerNegotiation::on_type(std::span<const std::uint8_t> received) {
  if (const std::error_code ec = check_type(received, expected_)) {
    return refuse(ec);
  }
  state_ = State::length;
  return Step::recv_exactly(2, Stage::auth);
}

Step ServerNegotiation::on_length(std::span<const std::uint8_t> received) {
  const std::size_t length = token_length(received);
  if (length == 0) {
    return refuse(make_error_code(GssapiError::empty_token));
  }
  state_ = expected_ == MessageType::context ? State::token : State::level;
  return Step::recv_exactly(length, Stage::auth);
}

/// Section 3.6: the server tells the client before it closes.
Step ServerNegotiation::refuse(std::error_code ec) {
  failed_ = ec;
  return Step::send(abort_message(), Stage::auth);
}

Step ServerNegotiation::on_token(std::span<const std::uint8_t> token) {
  auto progress = context_.establish(token);
  if (!progress) {
    return refuse(progress.error());
  }
  complete_ = progress->complete;
  if (progress->token.empty()) {
    return complete_ ? expect(MessageType::protection)
                     : refuse(make_error_code(GssStatus::failure));
  }
  auto message = encode_message(MessageType::context, progress->token);
  if (!message) {
    return refuse(message.error());
  }
  state_ = State::sent_token;
  return Step::send(std::move(*message), Stage::auth);
}

/// Section 4.3: the server answers with the level it selects; never more than the client asked.
Step ServerNegotiation::on_level(std::span<const std::uint8_t> token) {
  auto unwrapped = context_.unwrap(token);
  if (!unwrapped) {
    return refuse(unwrapped.error());
  }
  auto asked = parse_level(unwrapped->data);
  if (!asked) {
    return refuse(asked.error());
  }
  selected_ = std::min(*asked, maximum_);
  auto message = level_message(context_, selected_);
  if (!message) {
    return refuse(message.error());
  }
  state_ = State::sent_level;
  return Step::send(std::move(*message), Stage::auth);
}

Step ServerNegotiation::resume(std::span<const std::uint8_t> received) {
  if (failed_) {
    return Step::fail(failed_, Stage::auth);
  }
  switch (state_) {
    case State::type:
      return on_type(received);
    case State::length:
      return on_length(received);
    case State::token:
      return on_token(received);
    case State::sent_token:
      return expect(complete_ ? MessageType::protection : MessageType::context);
    case State::level:
      return on_level(received);
    case State::sent_level:
      return Step::done();
  }
  return refuse(make_error_code(GssStatus::failure));
}

// --- per-message encapsulation -----------------------------------------------------------------

Result<Bytes, std::error_code> encapsulate(GssContext& context, std::span<const std::uint8_t> data,
                                           Protection level) {
  const bool confidential = level == Protection::confidentiality;
  const std::size_t chunk = context.max_plaintext(kMaxToken, confidential);
  if (chunk == 0) {
    return failure(make_error_code(GssapiError::message_too_large));
  }
  Bytes out;
  for (std::size_t at = 0; at < data.size(); at += chunk) {
    auto wrapped = context.wrap(data.subspan(at, std::min(chunk, data.size() - at)), confidential);
    if (!wrapped) {
      return failure(wrapped.error());
    }
    auto message = encode_message(MessageType::encapsulated, *wrapped);
    if (!message) {
      return failure(message.error());
    }
    out.insert(out.end(), message->begin(), message->end());
  }
  return out;
}

void Decapsulator::feed(std::span<const std::uint8_t> bytes) {
  // Reclaim what was taken once it is the larger part, so the buffer stays bounded by one
  // message plus what arrived with it.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Bytes>, std::error_code> Decapsulator::next() {
  const std::span<const std::uint8_t> rest = std::span(buffer_).subspan(consumed_);
  if (rest.size() < kHeaderSize) {
    // An abort is two bytes long; report it as soon as it is seen.
    if (rest.size() < 2 || rest[1] != static_cast<std::uint8_t>(MessageType::abort)) {
      return std::optional<Bytes>{};
    }
  }
  if (const std::error_code ec = check_type(rest, MessageType::encapsulated)) {
    return failure(ec);
  }
  const std::size_t length = token_length(rest.subspan(2));
  if (rest.size() < kHeaderSize + length) {
    return std::optional<Bytes>{};
  }
  auto unwrapped = context_.unwrap(rest.subspan(kHeaderSize, length));
  if (!unwrapped) {
    return failure(unwrapped.error());
  }
  if (level_ == Protection::confidentiality && !unwrapped->confidential) {
    return failure(make_error_code(GssapiError::unprotected_message));
  }
  consumed_ += kHeaderSize + length;
  return std::optional<Bytes>{std::move(unwrapped->data)};
}

}  // namespace gssapi
}  // namespace hc::proto
