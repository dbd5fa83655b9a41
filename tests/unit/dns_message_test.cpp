// The DNS codec of the exec stub: queries as dig and glibc send them (EDNS or not, any letter
// case), every malformed form refused with its own error (labels, lengths, compression loops),
// the answers byte for byte, the UDP cut, and the DNS-over-TCP frame reader under the Step
// contract (every prefix starves, pieces accumulate, a pipelined next query stays unread).
#include "proto/dns_message.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "support/codec_driver.hpp"

namespace dns = hc::proto::dns;
using dns::DnsError;
using hc::test::Bytes;
using hc::test::concat;
using hc::test::hex;
using hc::test::kind;

namespace {

// dig +noedns -t A Example.ORG: ID 0x1234, RD.
const Bytes kHeader = hex("12 34 01 00 00 01 00 00 00 00 00 00");
const Bytes kName = hex("07 45 78 61 6d 70 6c 65 03 4f 52 47 00");  // Example.ORG
const Bytes kTypeA = hex("00 01 00 01");
const Bytes kQuery = concat({kHeader, kName, kTypeA});
// EDNS OPT, UDP size 4096 (dig's default).
const Bytes kOpt = hex("00 00 29 10 00 00 00 00 00 00 00");

std::error_code err(DnsError e) {
  return make_error_code(e);
}

Bytes with_counts(Bytes message, int an, int ns, int ar) {
  message[7] = static_cast<std::uint8_t>(an);
  message[9] = static_cast<std::uint8_t>(ns);
  message[11] = static_cast<std::uint8_t>(ar);
  return message;
}

Bytes query_for(const Bytes& name, const Bytes& type_class = kTypeA) {
  return concat({kHeader, name, type_class});
}

std::error_code error_of(const Bytes& message) {
  const auto q = dns::parse_query(message);
  return q ? std::error_code{} : q.error();
}

dns::Query parsed(const Bytes& message) {
  auto q = dns::parse_query(message);
  BOOST_TEST_REQUIRE(q.has_value(), (q ? std::string() : q.error().message()));
  return *q;
}

// A name of `labels` labels of `size` bytes each ('a').
Bytes long_name(int labels, int size) {
  Bytes out;
  for (int i = 0; i < labels; ++i) {
    out.push_back(static_cast<std::uint8_t>(size));
    out.insert(out.end(), static_cast<std::size_t>(size), 'a');
  }
  out.push_back(0);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_message)

BOOST_AUTO_TEST_CASE(a_plain_query_is_read_and_its_name_lower_cased) {
  const dns::Query q = parsed(kQuery);
  BOOST_TEST(q.id == 0x1234);
  BOOST_TEST(q.opcode == 0);
  BOOST_TEST(q.recursion_desired);
  BOOST_TEST(q.name == "example.org");
  BOOST_TEST(q.is_host_name());
  BOOST_TEST(q.type == dns::kTypeA);
  BOOST_TEST(q.klass == dns::kClassIn);
  BOOST_TEST(q.question == concat({kName, kTypeA}));  // the case as sent
  BOOST_TEST(!q.edns_udp_size.has_value());
  BOOST_TEST(q.udp_limit() == 512u);
}

BOOST_AUTO_TEST_CASE(an_edns_opt_record_gives_the_client_udp_size) {
  const dns::Query q = parsed(with_counts(concat({kQuery, kOpt}), 0, 0, 1));
  BOOST_TEST(q.edns_udp_size.value_or(0) == 4096);
  BOOST_TEST(q.udp_limit() == 4096u);
  // Below 512 counts as 512 (RFC 6891 §6.2.5); above the stub's ceiling, the ceiling.
  Bytes small = concat({kQuery, hex("00 00 29 00 64 00 00 00 00 00 00")});
  BOOST_TEST(parsed(with_counts(small, 0, 0, 1)).udp_limit() == 512u);
  Bytes huge = concat({kQuery, hex("00 00 29 ff ff 00 00 00 00 00 00")});
  BOOST_TEST(parsed(with_counts(huge, 0, 0, 1)).udp_limit() == dns::kMaxUdpAnswer);
}

BOOST_AUTO_TEST_CASE(records_after_the_question_may_point_back_to_it) {
  // An additional A record whose owner is a pointer to the question's name, then the OPT.
  const Bytes extra = hex("c0 0c 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01");
  const dns::Query q = parsed(with_counts(concat({kQuery, extra, kOpt}), 0, 0, 2));
  BOOST_TEST(q.name == "example.org");
  BOOST_TEST(q.edns_udp_size.value_or(0) == 4096);
}

BOOST_AUTO_TEST_CASE(names_that_are_not_host_names_are_escaped) {
  BOOST_TEST(parsed(query_for(hex("00"))).name == "");
  BOOST_TEST(!parsed(query_for(hex("00"))).is_host_name());
  // "a.b" as one label, a space, a backslash, a byte over 0x7e.
  const Bytes odd = hex("03 61 2e 62 03 20 5c ff 00");
  const dns::Query q = parsed(query_for(odd));
  BOOST_TEST(q.name == "a\\046b.\\032\\092\\255");
  BOOST_TEST(!q.is_host_name());
  BOOST_TEST(parsed(query_for(hex("04 5f 73 69 70 03 63 6f 6d 00"))).name == "_sip.com");
}

BOOST_AUTO_TEST_CASE(label_and_name_limits) {
  BOOST_TEST(parsed(query_for(long_name(1, 63))).name == std::string(63, 'a'));
  // 63 is the longest label: 64 has the 0x40 bit, a label type of its own.
  BOOST_TEST(error_of(query_for(long_name(1, 64))) == err(DnsError::bad_label_type));
  BOOST_TEST(error_of(query_for(hex("80 00"))) == err(DnsError::bad_label_type));
  // 255 bytes on the wire at most: 4 x 62 + 5 labels = 253 + 2 more = 255 fits, 256 does not.
  Bytes fits = long_name(4, 62);
  fits.insert(fits.end() - 1, {1, 'b'});
  BOOST_TEST(fits.size() == 255u);
  BOOST_TEST(parsed(query_for(fits)).name.size() == 4u * 63 + 1);
  Bytes over = long_name(4, 62);
  over.insert(over.end() - 1, {2, 'b', 'b'});
  BOOST_TEST(error_of(query_for(over)) == err(DnsError::name_too_long));
}

BOOST_AUTO_TEST_CASE(compression_pointers_only_go_backwards) {
  // Pointers in the question can only point into the header: always refused as not backwards
  // of the labels they follow, or read as labels and bounded. To itself, forwards:
  BOOST_TEST(error_of(query_for(hex("c0 0c"), kTypeA)) == err(DnsError::bad_pointer));
  BOOST_TEST(error_of(query_for(hex("01 61 c0 0c"))) == err(DnsError::bad_pointer));
  BOOST_TEST(error_of(query_for(hex("c0 20"))) == err(DnsError::bad_pointer));
  // Two records' names pointing at each other: one of the jumps goes forwards.
  const Bytes loop = hex("c0 23 00 01 00 01 00 00 00 00 00 00 c0 1d 00 01 00 01 00 00 00 00 00 00");
  BOOST_TEST(error_of(with_counts(concat({kQuery, loop}), 0, 0, 2)) == err(DnsError::bad_pointer));
  // A pointer cut in half.
  BOOST_TEST(error_of(with_counts(concat({kQuery, hex("c0")}), 0, 0, 1)) ==
             err(DnsError::truncated));
}

BOOST_AUTO_TEST_CASE(malformed_messages_have_precise_errors) {
  BOOST_TEST(error_of(Bytes(kQuery.begin(), kQuery.begin() + 11)) == err(DnsError::too_short));
  Bytes response = kQuery;
  response[2] |= 0x80;
  BOOST_TEST(error_of(response) == err(DnsError::not_a_query));
  Bytes none = kQuery;
  none[5] = 0;
  BOOST_TEST(error_of(none) == err(DnsError::question_count));
  Bytes two = kQuery;
  two[5] = 2;
  BOOST_TEST(error_of(two) == err(DnsError::question_count));
  BOOST_TEST(error_of(with_counts(kQuery, 0, 0, 1)) == err(DnsError::truncated));
  Bytes rdata_cut = with_counts(concat({kQuery, kOpt}), 0, 0, 1);
  rdata_cut[rdata_cut.size() - 1] = 1;  // RDLENGTH 1, no RDATA
  BOOST_TEST(error_of(rdata_cut) == err(DnsError::truncated));
  BOOST_TEST(make_error_code(DnsError::bad_pointer).message().find("pointer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_prefix_of_a_query_is_refused) {
  const Bytes whole = with_counts(concat({kQuery, kOpt}), 0, 0, 1);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix " << n) {
      const auto ec = error_of(Bytes(whole.begin(), whole.begin() + static_cast<long>(n)));
      BOOST_TEST((ec == err(DnsError::too_short) || ec == err(DnsError::truncated)));
    }
  }
  BOOST_TEST(!error_of(whole));
}

BOOST_AUTO_TEST_CASE(address_answers_byte_for_byte) {
  const dns::Query q = parsed(kQuery);
  const Bytes a = dns::address_answer(q, hex("c6 12 00 07"), 1);
  BOOST_TEST(a == concat({hex("12 34 81 80 00 01 00 01 00 00 00 00"), kName, kTypeA,
                          hex("c0 0c 00 01 00 01 00 00 00 01 00 04 c6 12 00 07")}));
  // AAAA to an EDNS client: its OPT comes back with the stub's size.
  const Bytes aaaa_query = with_counts(query_for(kName, hex("00 1c 00 01")), 0, 0, 1);
  const dns::Query q6 = parsed(concat({aaaa_query, kOpt}));
  const Bytes v6 = hex("fd 00 68 63 00 00 00 00 00 00 00 00 00 00 00 01");
  BOOST_TEST(dns::address_answer(q6, v6, 1) ==
             concat({hex("12 34 81 80 00 01 00 01 00 00 00 01"), kName, hex("00 1c 00 01"),
                     hex("c0 0c 00 1c 00 01 00 00 00 01 00 10"), v6,
                     hex("00 00 29 04 d0 00 00 00 00 00 00")}));
}

BOOST_AUTO_TEST_CASE(empty_answers_carry_their_rcode) {
  const dns::Query q = parsed(kQuery);
  const auto head = [&](dns::Rcode rcode) {
    const Bytes answer = dns::empty_answer(q, rcode);
    BOOST_TEST(answer.size() == 12u + kName.size() + 4);
    return Bytes(answer.begin(), answer.begin() + 12);
  };
  BOOST_TEST(head(dns::Rcode::noerror) == hex("12 34 81 80 00 01 00 00 00 00 00 00"));
  BOOST_TEST(head(dns::Rcode::nxdomain) == hex("12 34 81 83 00 01 00 00 00 00 00 00"));
  BOOST_TEST(head(dns::Rcode::servfail) == hex("12 34 81 82 00 01 00 00 00 00 00 00"));
  BOOST_TEST(head(dns::Rcode::refused) == hex("12 34 81 85 00 01 00 00 00 00 00 00"));
  // Without RD, and an opcode other than QUERY (STATUS, 2), echoed.
  Bytes status = kQuery;
  status[2] = 0x10;
  BOOST_TEST(Bytes(dns::empty_answer(parsed(status), dns::Rcode::notimp)).at(2) == 0x90);
  BOOST_TEST(Bytes(dns::empty_answer(parsed(status), dns::Rcode::notimp)).at(3) == 0x84);
}

BOOST_AUTO_TEST_CASE(format_errors_echo_the_header_or_say_nothing) {
  Bytes bad = query_for(hex("c0 0c"));
  BOOST_TEST(*dns::format_error(bad) == hex("12 34 81 81 00 00 00 00 00 00 00 00"));
  BOOST_TEST(!dns::format_error(Bytes(kQuery.begin(), kQuery.begin() + 11)));
  Bytes response = kQuery;
  response[2] |= 0x80;
  BOOST_TEST(!dns::format_error(response));
}

BOOST_AUTO_TEST_CASE(a_reply_answers_its_query_only) {
  const Bytes reply = dns::empty_answer(parsed(kQuery), dns::Rcode::noerror);
  BOOST_TEST(dns::answers(reply, 0x1234));
  BOOST_TEST(!dns::answers(reply, 0x1235));
  BOOST_TEST(!dns::answers(kQuery, 0x1234));  // not a response
  BOOST_TEST(!dns::answers(hex("12 34 81"), 0x1234));
}

BOOST_AUTO_TEST_CASE(a_reply_cut_for_udp_keeps_header_and_question) {
  Bytes reply = with_counts(dns::empty_answer(parsed(kQuery), dns::Rcode::noerror), 40, 0, 0);
  for (int i = 0; i < 40; ++i) {
    reply = concat({reply, hex("c0 0c 00 10 00 01 00 00 00 3c 00 0b 0a"), Bytes(10, 'x')});
  }
  BOOST_TEST(reply.size() > 512u);
  const auto cut = dns::truncate_reply(reply);
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(*cut == concat({hex("12 34 83 80 00 01 00 00 00 00 00 00"), kName, kTypeA}));
  BOOST_TEST(dns::truncate_reply(hex("12 34 81 80 00 01")).error() == err(DnsError::too_short));
  BOOST_TEST(
      dns::truncate_reply(concat({hex("12 34 81 80 00 01 00 00 00 00 00 00"), kName})).error() ==
      DnsError::truncated);
}

BOOST_AUTO_TEST_CASE(frames_carry_the_length) {
  BOOST_TEST(*dns::frame(kQuery) == concat({hex("00 1d"), kQuery}));
  BOOST_TEST(dns::frame(Bytes(65536, 0)).error() == err(DnsError::message_too_long));
  BOOST_TEST(dns::frame(Bytes(65535, 0))->size() == 65537u);
}

BOOST_AUTO_TEST_CASE(the_frame_reader_starves_on_every_prefix) {
  const Bytes framed = *dns::frame(kQuery);
  hc::test::expect_every_prefix_starves([] { return dns::TcpFrameReader(); }, framed,
                                        {hc::test::kWhole, 1, 2, 3});
  dns::TcpFrameReader reader;
  const auto r = hc::test::drive(reader, framed, 3);
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(reader.message() == kQuery);
}

BOOST_AUTO_TEST_CASE(the_frame_reader_accumulates_pieces_and_reads_exactly) {
  const Bytes framed = *dns::frame(kQuery);
  dns::TcpFrameReader reader;
  const auto r = hc::test::deliver_byte_by_byte(reader, framed);
  BOOST_TEST(kind(r.last.kind) == "done");
  BOOST_TEST(r.all_exact);
  BOOST_TEST(r.consumed == framed.size());
  BOOST_TEST(reader.message() == kQuery);
  // The next pipelined query is left in the socket.
  hc::test::expect_payload_untouched([] { return dns::TcpFrameReader(); }, framed, framed,
                                     hc::test::chunk_sizes_up_to(4));
}

BOOST_AUTO_TEST_CASE(the_frame_reader_refuses_lengths_no_message_has) {
  for (const auto& [prefix, error] : {std::pair{hex("00 00"), DnsError::empty_frame},
                                      std::pair{hex("00 0b"), DnsError::too_short}}) {
    dns::TcpFrameReader reader;
    const auto r = hc::test::drive(reader, concat({prefix, kQuery}));
    BOOST_TEST(kind(r.end) == "fail");
    BOOST_TEST(r.ec == err(error));
    BOOST_TEST(r.consumed == 2u);
    BOOST_TEST(reader.resume({}).ec == err(error));  // a failed reader stays failed
  }
}

BOOST_AUTO_TEST_SUITE_END()
