#include "proto/dns_message.hpp"

#include <algorithm>
#include <string>

namespace hc::proto::dns {
namespace {

// RFC 1035 §4.1.1 header flags.
constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kFlagTc = 0x0200;
constexpr std::uint16_t kFlagRd = 0x0100;
constexpr std::uint16_t kFlagRa = 0x0080;
constexpr std::uint8_t kPointer = 0xC0;
// Bytes after a record's owner name: TYPE CLASS TTL RDLENGTH.
constexpr std::size_t kRecordFixed = 10;
// The question's name always starts right after the header: an answer points back to it.
constexpr std::uint16_t kQuestionNamePointer = 0xC000 | kHeaderSize;

class DnsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dns"; }
  std::string message(int ev) const override {
    switch (static_cast<DnsError>(ev)) {
      case DnsError::too_short:
        return "DNS message shorter than its 12-byte header";
      case DnsError::not_a_query:
        return "DNS message is a response, not a query";
      case DnsError::question_count:
        return "DNS query does not hold exactly one question";
      case DnsError::truncated:
        return "DNS message ends inside a name or record";
      case DnsError::bad_label_type:
        return "DNS name has a label of an unknown type";
      case DnsError::name_too_long:
        return "DNS name longer than 255 bytes";
      case DnsError::bad_pointer:
        return "DNS name has a compression pointer that does not point backwards";
      case DnsError::empty_frame:
        return "DNS over TCP message of length 0";
      case DnsError::message_too_long:
        return "DNS message longer than 65535 bytes";
    }
    return "unknown DNS error";
  }
};

std::uint16_t get16(std::span<const std::uint8_t> m, std::size_t at) {
  return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

// A label as text: lower case, and \DDD for what a host name cannot hold or would misread.
void append_label_text(std::string& out, std::span<const std::uint8_t> label) {
  for (const std::uint8_t b : label) {
    if (b < '!' || b > '~' || b == '.' || b == '\\') {
      out += '\\';
      out += static_cast<char>('0' + b / 100);
      out += static_cast<char>('0' + b / 10 % 10);
      out += static_cast<char>('0' + b % 10);
    } else if (b >= 'A' && b <= 'Z') {
      out += static_cast<char>(b - 'A' + 'a');
    } else {
      out += static_cast<char>(b);
    }
  }
}

struct Name {
  std::size_t end = 0;             ///< just past the name where it was read (pointer included)
  std::vector<std::uint8_t> wire;  ///< uncompressed, as sent
  std::string text;                ///< lower-cased, dotted
};

// Reads the name at `at`. Each pointer must point before the start of the labels it follows,
// so the starts strictly decrease and every input ends.
Result<Name, std::error_code> read_name(std::span<const std::uint8_t> m, std::size_t at) {
  Name name;
  std::optional<std::size_t> end;
  std::size_t bound = at;
  for (std::size_t cursor = at;;) {
    if (cursor >= m.size()) {
      return failure(make_error_code(DnsError::truncated));
    }
    const std::uint8_t len = m[cursor];
    if ((len & kPointer) == kPointer) {
      if (cursor + 1 >= m.size()) {
        return failure(make_error_code(DnsError::truncated));
      }
      const std::size_t target = static_cast<std::size_t>(get16(m, cursor) & 0x3FFF);
      end = end.value_or(cursor + 2);
      if (target >= bound) {
        return failure(make_error_code(DnsError::bad_pointer));
      }
      bound = cursor = target;
      continue;
    }
    if ((len & kPointer) != 0) {
      return failure(make_error_code(DnsError::bad_label_type));
    }
    if (name.wire.size() + 1 + len > kMaxName) {
      return failure(make_error_code(DnsError::name_too_long));
    }
    if (cursor + 1 + len > m.size()) {
      return failure(make_error_code(DnsError::truncated));
    }
    const auto label = m.subspan(cursor, 1 + std::size_t{len});
    name.wire.insert(name.wire.end(), label.begin(), label.end());
    if (len == 0) {
      name.end = end.value_or(cursor + 1);
      return name;
    }
    if (!name.text.empty()) {
      name.text += '.';
    }
    append_label_text(name.text, label.subspan(1));
    cursor += 1 + len;
  }
}

// Skips the records after the question; notes the UDP size of an OPT record.
Result<void, std::error_code> read_records(std::span<const std::uint8_t> m, std::size_t at,
                                           std::size_t count, Query& query) {
  for (std::size_t i = 0; i < count; ++i) {
    auto owner = read_name(m, at);
    if (!owner) {
      return failure(owner.error());
    }
    at = owner->end;
    if (m.size() - at < kRecordFixed) {
      return failure(make_error_code(DnsError::truncated));
    }
    const std::uint16_t type = get16(m, at);
    const std::uint16_t klass = get16(m, at + 2);
    const std::size_t rdlength = get16(m, at + 8);
    at += kRecordFixed;
    if (m.size() - at < rdlength) {
      return failure(make_error_code(DnsError::truncated));
    }
    at += rdlength;
    if (type == kTypeOpt && !query.edns_udp_size) {
      query.edns_udp_size = klass;  // RFC 6891 §6.1.2: an OPT record's CLASS is the UDP size
    }
  }
  return {};
}

std::uint16_t answer_flags(const Query& query, Rcode rcode) {
  return static_cast<std::uint16_t>(kFlagQr | (query.opcode & 0x0F) << 11 |
                                    (query.recursion_desired ? kFlagRd : 0) | kFlagRa |
                                    static_cast<std::uint16_t>(rcode));
}

// Header and question of an answer with `answers` records; an OPT record goes last (opt_record).
std::vector<std::uint8_t> answer_head(const Query& query, Rcode rcode, std::uint16_t answers) {
  std::vector<std::uint8_t> out;
  put16(out, query.id);
  put16(out, answer_flags(query, rcode));
  put16(out, 1);
  put16(out, answers);
  put16(out, 0);
  put16(out, query.edns_udp_size ? 1 : 0);
  out.insert(out.end(), query.question.begin(), query.question.end());
  return out;
}

// RFC 6891 §6.1.2: a responder that understands EDNS answers an OPT with one of its own.
void opt_record(const Query& query, std::vector<std::uint8_t>& out) {
  if (!query.edns_udp_size) {
    return;
  }
  out.push_back(0);  // owner: the root
  put16(out, kTypeOpt);
  put16(out, kStubUdpSize);
  put32(out, 0);  // extended RCODE, version 0, no flags
  put16(out, 0);  // no options
}

}  // namespace

const std::error_category& dns_category() {
  static const DnsCategory category;
  return category;
}

std::error_code make_error_code(DnsError e) {
  return {static_cast<int>(e), dns_category()};
}

bool Query::is_host_name() const {
  return !name.empty() && name.find('\\') == std::string::npos;
}

std::size_t Query::udp_limit() const {
  if (!edns_udp_size) {
    return kClassicUdpSize;
  }
  return std::clamp<std::size_t>(*edns_udp_size, kClassicUdpSize, kMaxUdpAnswer);
}

Result<Query, std::error_code> parse_query(std::span<const std::uint8_t> m) {
  if (m.size() < kHeaderSize) {
    return failure(make_error_code(DnsError::too_short));
  }
  const std::uint16_t flags = get16(m, 2);
  if ((flags & kFlagQr) != 0) {
    return failure(make_error_code(DnsError::not_a_query));
  }
  if (get16(m, 4) != 1) {
    return failure(make_error_code(DnsError::question_count));
  }
  auto name = read_name(m, kHeaderSize);
  if (!name) {
    return failure(name.error());
  }
  if (m.size() - name->end < 4) {
    return failure(make_error_code(DnsError::truncated));
  }
  Query query;
  query.id = get16(m, 0);
  query.opcode = static_cast<std::uint8_t>(flags >> 11 & 0x0F);
  query.recursion_desired = (flags & kFlagRd) != 0;
  query.name = std::move(name->text);
  query.type = get16(m, name->end);
  query.klass = get16(m, name->end + 2);
  query.question = std::move(name->wire);
  query.question.insert(query.question.end(), m.begin() + static_cast<std::ptrdiff_t>(name->end),
                        m.begin() + static_cast<std::ptrdiff_t>(name->end + 4));
  const std::size_t records = std::size_t{get16(m, 6)} + get16(m, 8) + get16(m, 10);
  if (auto rest = read_records(m, name->end + 4, records, query); !rest) {
    return failure(rest.error());
  }
  return query;
}

std::vector<std::uint8_t> address_answer(const Query& query, std::span<const std::uint8_t> address,
                                         std::uint32_t ttl) {
  std::vector<std::uint8_t> out = answer_head(query, Rcode::noerror, 1);
  put16(out, kQuestionNamePointer);
  put16(out, address.size() == 4 ? kTypeA : kTypeAaaa);
  put16(out, query.klass);
  put32(out, ttl);
  put16(out, static_cast<std::uint16_t>(address.size()));
  out.insert(out.end(), address.begin(), address.end());
  opt_record(query, out);
  return out;
}

std::vector<std::uint8_t> empty_answer(const Query& query, Rcode rcode) {
  std::vector<std::uint8_t> out = answer_head(query, rcode, 0);
  opt_record(query, out);
  return out;
}

std::optional<std::vector<std::uint8_t>> format_error(std::span<const std::uint8_t> m) {
  if (m.size() < kHeaderSize || (get16(m, 2) & kFlagQr) != 0) {
    return std::nullopt;
  }
  Query header;
  header.id = get16(m, 0);
  header.opcode = static_cast<std::uint8_t>(get16(m, 2) >> 11 & 0x0F);
  header.recursion_desired = (get16(m, 2) & kFlagRd) != 0;
  std::vector<std::uint8_t> out;
  put16(out, header.id);
  put16(out, answer_flags(header, Rcode::formerr));
  out.resize(kHeaderSize, 0);  // no question: it could not be read
  return out;
}

bool answers(std::span<const std::uint8_t> reply, std::uint16_t id) {
  return reply.size() >= kHeaderSize && get16(reply, 0) == id && (get16(reply, 2) & kFlagQr) != 0;
}

Result<std::vector<std::uint8_t>, std::error_code> truncate_reply(
    std::span<const std::uint8_t> reply) {
  if (reply.size() < kHeaderSize) {
    return failure(make_error_code(DnsError::too_short));
  }
  std::size_t at = kHeaderSize;
  for (std::size_t i = 0, n = get16(reply, 4); i < n; ++i) {
    auto name = read_name(reply, at);
    if (!name) {
      return failure(name.error());
    }
    if (reply.size() - name->end < 4) {
      return failure(make_error_code(DnsError::truncated));
    }
    at = name->end + 4;
  }
  // The question bytes keep their offsets, so any pointer among them still holds.
  std::vector<std::uint8_t> out(reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(at));
  out[2] |= static_cast<std::uint8_t>(kFlagTc >> 8);
  std::fill(out.begin() + 6, out.begin() + kHeaderSize, 0);
  return out;
}

Result<std::vector<std::uint8_t>, std::error_code> frame(std::span<const std::uint8_t> message) {
  if (message.size() > 0xFFFF) {
    return failure(make_error_code(DnsError::message_too_long));
  }
  std::vector<std::uint8_t> out;
  out.reserve(2 + message.size());
  put16(out, static_cast<std::uint16_t>(message.size()));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Step TcpFrameReader::fail(std::error_code ec) {
  state_ = State::failed;
  ec_ = ec;
  return Step::fail(ec, Stage::request);
}

Step TcpFrameReader::start() {
  state_ = State::length;
  length_.clear();
  message_.clear();
  want_ = 0;
  ec_ = {};
  return Step::recv_exactly(2, Stage::request);
}

Step TcpFrameReader::resume(std::span<const std::uint8_t> received) {
  switch (state_) {
    case State::failed:
      return Step::fail(ec_, Stage::request);
    case State::done:
      return Step::done();
    case State::length: {
      const std::size_t take = std::min(received.size(), 2 - length_.size());
      length_.insert(length_.end(), received.begin(), received.begin() + take);
      if (length_.size() < 2) {
        return Step::recv_exactly(2 - length_.size(), Stage::request);
      }
      want_ = get16(length_, 0);
      if (want_ == 0) {
        return fail(make_error_code(DnsError::empty_frame));
      }
      if (want_ < kHeaderSize) {
        return fail(make_error_code(DnsError::too_short));
      }
      state_ = State::body;
      return Step::recv_exactly(want_, Stage::request);
    }
    case State::body: {
      const std::size_t take = std::min(received.size(), want_ - message_.size());
      message_.insert(message_.end(), received.begin(), received.begin() + take);
      if (message_.size() < want_) {
        return Step::recv_exactly(want_ - message_.size(), Stage::request);
      }
      state_ = State::done;
      return Step::done();
    }
  }
  return fail(make_error_code(DnsError::truncated));
}

}  // namespace hc::proto::dns
