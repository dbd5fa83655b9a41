/// DNS messages (RFC 1035) as the stub resolver of `exec --dns` needs them: parse a query, build
/// the few answers the stub gives itself, make an upstream reply fit a UDP client, and the
/// 2-byte length framing of DNS over TCP (RFC 1035 §4.2.2, RFC 7766).
///
/// Names are read with the label rules of RFC 1035 §2.3.4 and §4.1.4 (labels of 1..63 bytes, a
/// name of at most 255 bytes on the wire, label types 0x40 and 0x80 refused). A compression
/// pointer must point before the start of the labels it follows, so every jump goes strictly
/// backwards and no input can loop. Pure functions over bytes, nothing thrown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "base/result.hpp"
#include "proto/step.hpp"

namespace hc::proto::dns {

/// Why a message was not understood.
enum class DnsError {
  too_short = 1,     ///< fewer than the 12 header bytes
  not_a_query,       ///< QR is set: a response, never answered (no reflection loops)
  question_count,    ///< QDCOUNT is not 1
  truncated,         ///< a name, question or record runs past the end of the message
  bad_label_type,    ///< a length byte with 0x40 or 0x80 set alone (RFC 6891 retired them)
  name_too_long,     ///< over 255 bytes on the wire
  bad_pointer,       ///< a compression pointer that does not point backwards
  empty_frame,       ///< DNS over TCP: a length prefix of 0
  message_too_long,  ///< over 65535 bytes: cannot be framed for TCP
};
const std::error_category& dns_category();
std::error_code make_error_code(DnsError e);

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxName = 255;
inline constexpr std::size_t kMaxLabel = 63;
/// RFC 1035 §4.2.1: what a UDP client without EDNS takes.
inline constexpr std::size_t kClassicUdpSize = 512;
/// What the stub says it takes over UDP in its own OPT record (the DNS flag day 2020 figure).
inline constexpr std::uint16_t kStubUdpSize = 1232;
/// The most the stub ever sends in one datagram, whatever a client's EDNS size says.
inline constexpr std::size_t kMaxUdpAnswer = 4096;

// RFC 1035 §3.2.2, RFC 3596, RFC 6891.
inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kClassIn = 1;

enum class Rcode : std::uint8_t {
  noerror = 0,
  formerr = 1,
  servfail = 2,
  nxdomain = 3,
  notimp = 4,
  refused = 5,
};

struct Query {
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;  ///< 0 = QUERY; the stub answers nothing else
  bool recursion_desired = false;
  /// The question's name, lower-cased, dotted, without the final dot ("" for the root). Bytes
  /// that cannot appear in a host name (anything outside '!'..'~', a '.' or '\' inside a label)
  /// are written \DDD, as dig does, so two different names never read the same.
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  /// The question as sent (name uncompressed, original letter case, QTYPE, QCLASS): an answer
  /// repeats it byte for byte, which clients that randomise case (DNS 0x20) check.
  std::vector<std::uint8_t> question;
  /// The UDP size of the client's EDNS OPT record, if it sent one.
  std::optional<std::uint16_t> edns_udp_size;

  /// A name the chain can carry as a host name: not the root, no \DDD escape.
  bool is_host_name() const;
  /// The largest UDP answer this client takes: 512 without EDNS, else its EDNS size, clamped to
  /// 512..kMaxUdpAnswer (RFC 6891 §6.2.5: values below 512 are treated as 512).
  std::size_t udp_limit() const;
};

/// Parses a query: the header, exactly one question, and (to find an OPT record) every record
/// after it. A message with a question but something wrong after it still fails here.
Result<Query, std::error_code> parse_query(std::span<const std::uint8_t> message);

/// The answer to `query` with one A (4 bytes) or AAAA (16 bytes) record for its name.
std::vector<std::uint8_t> address_answer(const Query& query, std::span<const std::uint8_t> address,
                                         std::uint32_t ttl);

/// An answer without records: NODATA (noerror), NXDOMAIN, SERVFAIL, REFUSED, NOTIMP.
std::vector<std::uint8_t> empty_answer(const Query& query, Rcode rcode);

/// FORMERR for a message parse_query refused, echoing its ID, opcode and RD. Nothing (the
/// message is dropped) when it is shorter than a header or is itself a response.
std::optional<std::vector<std::uint8_t>> format_error(std::span<const std::uint8_t> message);

/// True when `reply` is a response (QR set) to the query with ID `id`.
bool answers(std::span<const std::uint8_t> reply, std::uint16_t id);

/// `reply` cut to its header and question section, with TC set and every other count 0: what a
/// UDP client gets when the answer is larger than it takes (it then asks again over TCP).
Result<std::vector<std::uint8_t>, std::error_code> truncate_reply(
    std::span<const std::uint8_t> reply);

/// `message` with the 2-byte length in front, for DNS over TCP.
Result<std::vector<std::uint8_t>, std::error_code> frame(std::span<const std::uint8_t> message);

/// Reads one length-prefixed DNS message from a TCP stream, under the Step contract: exact
/// reads (2 bytes, then the length), so a client's next pipelined query stays in the socket;
/// pieces of an exact read are accumulated. `done`: message() holds the message without its
/// prefix. A length of 0 or below a header's 12 bytes fails.
class TcpFrameReader final : public Handshake {
 public:
  Step start() override;
  Step resume(std::span<const std::uint8_t> received) override;

  const std::vector<std::uint8_t>& message() const { return message_; }

 private:
  enum class State : std::uint8_t { length, body, done, failed };
  Step fail(std::error_code ec);

  State state_ = State::length;
  std::vector<std::uint8_t> length_;   // the prefix, as far as it came
  std::vector<std::uint8_t> message_;  // the message, as far as it came
  std::size_t want_ = 0;               // the message's length, once the prefix is read
  std::error_code ec_;
};

}  // namespace hc::proto::dns

template <>
struct std::is_error_code_enum<hc::proto::dns::DnsError> : std::true_type {};
