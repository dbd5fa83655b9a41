/// Test helpers for sans-IO codecs and parsers: hex byte vectors; a driver that plays a server's
/// reply bytes into a Handshake in chunks of a chosen size; the checks every codec's suite makes
/// with it (cut at every prefix, fed in chunks, fed a byte at a time); and the case tables of the
/// proxy URL suites.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "proto/errors.hpp"
#include "proto/proxy_url.hpp"
#include "proto/step.hpp"

namespace hc::test {

using Bytes = std::vector<std::uint8_t>;

/// "04 01 00 50" -> {4, 1, 0, 0x50}; spaces are ignored.
inline Bytes hex(std::string_view text) {
  Bytes out;
  int nibble = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

inline Bytes bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> data) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i) {
      s += ' ';
    }
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

/// A step kind by name, so that assertions print readably: kind(r.end) == "done".
inline std::string_view kind(proto::Step::Kind k) {
  switch (k) {
    case proto::Step::Kind::send:
      return "send";
    case proto::Step::Kind::recv_exactly:
      return "recv_exactly";
    case proto::Step::Kind::recv_some:
      return "recv_some";
    case proto::Step::Kind::done:
      return "done";
    case proto::Step::Kind::fail:
      return "fail";
  }
  return "?";
}

/// As a chunk size: hand each read all it asks for.
inline constexpr std::size_t kWhole = std::numeric_limits<std::size_t>::max();

struct DriveResult {
  Bytes sent;             ///< everything the codec asked to send, concatenated
  proto::Step::Kind end;  ///< done or fail, or recv_* when the replies ran out
  std::error_code ec;     ///< on fail
  proto::Stage stage = proto::Stage::request;
  Bytes leftover;            ///< codec's leftover() after done
  std::size_t consumed = 0;  ///< reply bytes handed to the codec
  bool starved() const {
    return end == proto::Step::Kind::recv_exactly || end == proto::Step::Kind::recv_some;
  }
};

/// Runs `codec` to completion, answering reads from `replies` with at most `chunk` bytes each.
/// Stops (starved) when a read asks for more than what is left, as a real EOF would.
inline DriveResult drive(proto::Handshake& codec, std::span<const std::uint8_t> replies,
                         std::size_t chunk = kWhole) {
  DriveResult r;
  std::size_t pos = 0;
  proto::Step step = codec.start();
  for (int guard = 0; guard < 1000000; ++guard) {
    switch (step.kind) {
      case proto::Step::Kind::send:
        r.sent.insert(r.sent.end(), step.bytes.begin(), step.bytes.end());
        step = codec.resume({});
        continue;
      case proto::Step::Kind::recv_exactly:
      case proto::Step::Kind::recv_some: {
        const std::size_t left = replies.size() - pos;
        std::size_t n = std::min({step.size, chunk, left});
        if (n == 0) {
          r.end = step.kind;
          r.consumed = pos;
          return r;
        }
        if (step.kind == proto::Step::Kind::recv_exactly) {
          // Exact reads accumulate across chunks, as an async_read of n bytes would.
          if (left < step.size) {
            r.end = step.kind;
            r.consumed = pos;
            return r;
          }
          n = step.size;
        }
        auto piece = replies.subspan(pos, n);
        pos += n;
        step = codec.resume(piece);
        continue;
      }
      case proto::Step::Kind::done: {
        r.end = step.kind;
        auto lo = codec.leftover();
        r.leftover.assign(lo.begin(), lo.end());
        r.consumed = pos;
        return r;
      }
      case proto::Step::Kind::fail:
        r.end = step.kind;
        r.ec = step.ec;
        r.stage = step.stage;
        r.consumed = pos;
        return r;
    }
  }
  r.end = proto::Step::Kind::fail;
  r.ec = std::make_error_code(std::errc::timed_out);
  return r;
}

// The helpers below take `make`, which returns the codec to drive: a fresh one, or a reference to
// one that drive() restarts (start() must begin afresh, and reusing a codec checks that it does).

/// Every chunk size from 1 to `n`.
inline std::vector<std::size_t> chunk_sizes_up_to(std::size_t n) {
  std::vector<std::size_t> sizes;
  for (std::size_t chunk = 1; chunk <= n; ++chunk) {
    sizes.push_back(chunk);
  }
  return sizes;
}

/// Plays `replies` into the codec once per chunk size and hands each result to `check`.
template <class MakeCodec, class Check>
void for_each_chunk_size(const std::vector<std::size_t>& chunks, MakeCodec&& make,
                         std::span<const std::uint8_t> replies, Check&& check) {
  for (const std::size_t chunk : chunks) {
    BOOST_TEST_CONTEXT("chunks of " << chunk) {
      auto&& codec = make();
      check(drive(codec, replies, chunk));
    }
  }
}

/// A reply with tunnel payload glued to it, in each chunk size: the codec finishes having read the
/// reply and not one byte more, and holds nothing over (the payload stays in the socket).
template <class MakeCodec>
void expect_payload_untouched(MakeCodec&& make, std::span<const std::uint8_t> reply,
                              std::span<const std::uint8_t> payload,
                              const std::vector<std::size_t>& chunks) {
  Bytes stream(reply.begin(), reply.end());
  stream.insert(stream.end(), payload.begin(), payload.end());
  for_each_chunk_size(chunks, make, stream, [&](const DriveResult& r) {
    BOOST_TEST(kind(r.end) == "done");
    BOOST_TEST(r.consumed == reply.size());
    BOOST_TEST(r.leftover.empty());
  });
}

struct NoMoreChecks {
  void operator()(const DriveResult&, std::size_t) const {}
};

/// A server's whole transcript cut short anywhere leaves the codec waiting for more: starved, no
/// error, nothing read past the cut; `more(result, prefix_length)` adds the codec's own checks.
/// Each prefix is played in each chunk size. The whole transcript then completes.
template <class MakeCodec, class More = NoMoreChecks>
void expect_every_prefix_starves(MakeCodec&& make, std::span<const std::uint8_t> transcript,
                                 const std::vector<std::size_t>& chunks = {kWhole},
                                 More&& more = {}) {
  for (std::size_t len = 0; len < transcript.size(); ++len) {
    BOOST_TEST_CONTEXT("prefix " << len) {
      for_each_chunk_size(chunks, make, transcript.first(len), [&](const DriveResult& r) {
        BOOST_TEST(r.starved());
        BOOST_TEST(!r.ec);
        BOOST_TEST(r.consumed <= len);
        more(r, len);
      });
    }
  }
  auto&& codec = make();
  const auto r = drive(codec, transcript);
  BOOST_TEST(kind(r.end) == "done");
  BOOST_TEST(r.consumed == transcript.size());
}

struct ByteByByte {
  std::vector<std::size_t> asked;  ///< the size of each read, in order
  bool all_exact = true;           ///< every read was recv_exactly
  proto::Step last;                ///< where it stopped: done, fail, or a read the input ran out in
  std::size_t consumed = 0;
};

/// Runs `codec` handing it one byte per resume whatever a read asks for, as a runner may deliver
/// an exact read in pieces; the codec must ask for the rest each time.
inline ByteByByte deliver_byte_by_byte(proto::Handshake& codec,
                                       std::span<const std::uint8_t> replies) {
  ByteByByte r;
  r.last = codec.start();
  for (int guard = 0; guard < 1000000; ++guard) {
    switch (r.last.kind) {
      case proto::Step::Kind::send:
        r.last = codec.resume({});
        continue;
      case proto::Step::Kind::recv_exactly:
      case proto::Step::Kind::recv_some:
        if (r.consumed == replies.size()) {
          return r;
        }
        r.asked.push_back(r.last.size);
        r.all_exact = r.all_exact && r.last.kind == proto::Step::Kind::recv_exactly;
        r.last = codec.resume(replies.subspan(r.consumed++, 1));
        continue;
      case proto::Step::Kind::done:
      case proto::Step::Kind::fail:
        return r;
    }
  }
  r.last = proto::Step::fail(std::make_error_code(std::errc::timed_out), proto::Stage::request);
  return r;
}

// --- proxy URL case tables -------------------------------------------------------------------

/// A URL that parses, and what its scheme makes of it.
struct UrlCase {
  std::string url;
  std::string scheme;
  proto::Protocol protocol;
  bool remote_dns;
  std::string host;
  std::uint16_t port;
};
inline std::ostream& operator<<(std::ostream& os, const UrlCase& c) {
  return os << c.url;
}

/// A URL that must be refused, and why.
struct BadUrlCase {
  std::string url;
  proto::UrlError error;
};
inline std::ostream& operator<<(std::ostream& os, const BadUrlCase& c) {
  return os << c.url << " -> " << make_error_code(c.error).message();
}

inline proto::HopSpec parse_ok(const std::string& url) {
  proto::HopSpec hop;
  const auto ec = proto::parse_proxy_url(url, hop);
  BOOST_TEST_REQUIRE(!ec, url << ": " << ec.message());
  return hop;
}

/// Parses `c.url` and checks scheme, protocol, name resolution side and server; returns the hop
/// for the suite's own checks.
inline proto::HopSpec expect_parsed(const UrlCase& c) {
  const proto::HopSpec hop = parse_ok(c.url);
  BOOST_TEST(hop.scheme == c.scheme);
  BOOST_TEST((hop.protocol == c.protocol));
  BOOST_TEST(hop.remote_dns == c.remote_dns);
  BOOST_TEST(hop.server.host == c.host);
  BOOST_TEST(hop.server.port == c.port);
  return hop;
}

/// The URL is refused with `c.error`, and the hop it was parsed into is left as it was.
inline void expect_rejected(const BadUrlCase& c) {
  proto::HopSpec hop;
  hop.server.host = "untouched";
  BOOST_TEST(proto::parse_proxy_url(c.url, hop) == make_error_code(c.error));
  BOOST_TEST(hop.server.host == "untouched");
}

}  // namespace hc::test

namespace std {
inline std::ostream& operator<<(std::ostream& os, const std::vector<std::uint8_t>& v) {
  return os << '[' << hc::test::to_hex(v) << ']';
}
}  // namespace std
