/// The exec stub's DNS codec over arbitrary bytes: a client's query (names, compression
/// pointers, records after the question), an upstream reply cut for UDP, and the DNS-over-TCP
/// frame reader, whole or in small pieces. Input: one configuration byte (the reader's piece
/// size), then the bytes. Checked: no input loops or over-reads; a parsed name respects the
/// wire limits; the stub's own answers to a parsed query are well-formed responses; a cut reply
/// is never longer than the reply; the reader takes exactly one frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_driver.hpp"
#include "proto/dns_message.hpp"

namespace {

namespace dns = hc::proto::dns;

void check_answers_to(const dns::Query& q) {
  // The name's text is at most 4 bytes (\DDD) per wire byte; the question repeats the name
  // uncompressed (at most 255 bytes) and QTYPE, QCLASS.
  HC_FUZZ_CHECK(q.name.size() <= 4 * dns::kMaxName);
  HC_FUZZ_CHECK(q.question.size() >= 5 && q.question.size() <= dns::kMaxName + 4);
  HC_FUZZ_CHECK(q.udp_limit() >= dns::kClassicUdpSize && q.udp_limit() <= dns::kMaxUdpAnswer);
  const std::uint8_t v4[4] = {198, 18, 0, 1};
  const auto answer = dns::address_answer(q, v4, 1);
  const auto refusal = dns::empty_answer(q, dns::Rcode::servfail);
  for (const auto& reply : {answer, refusal}) {
    HC_FUZZ_CHECK(dns::answers(reply, q.id));
    const auto cut = dns::truncate_reply(reply);
    HC_FUZZ_CHECK(cut.has_value());
    HC_FUZZ_CHECK(cut->size() == dns::kHeaderSize + q.question.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hc::fuzz::Input in(data, size);
  const std::size_t chunk = in.byte() % 8;  // 0: as asked
  // Exact-size copy, so an over-read is a heap overflow under ASan.
  const std::vector<std::uint8_t> bytes(in.rest().begin(), in.rest().end());

  if (const auto q = dns::parse_query(bytes)) {
    check_answers_to(*q);
  } else {
    (void)q.error().message();
    const auto formerr = dns::format_error(bytes);
    HC_FUZZ_CHECK(!formerr || formerr->size() == dns::kHeaderSize);
  }
  if (const auto cut = dns::truncate_reply(bytes)) {
    HC_FUZZ_CHECK(cut->size() <= bytes.size() && (cut->at(2) & 0x02) != 0);
  }

  dns::TcpFrameReader reader;
  const auto r = hc::fuzz::drive(reader, bytes, chunk);
  if (r.end == hc::proto::Step::Kind::done) {
    const std::size_t length = std::size_t{bytes[0]} << 8 | bytes[1];
    HC_FUZZ_CHECK(reader.message().size() == length && r.consumed == 2 + length);
    HC_FUZZ_CHECK(std::equal(reader.message().begin(), reader.message().end(), bytes.begin() + 2));
  } else {
    HC_FUZZ_CHECK(r.consumed <= bytes.size());
  }
  return 0;
}
