/// Test helpers for sans-IO codecs: hex byte vectors and a driver that plays a server's reply
/// bytes into a Handshake in chunks of a chosen size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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
                         std::size_t chunk = std::numeric_limits<std::size_t>::max()) {
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

}  // namespace hc::test

namespace std {
inline std::ostream& operator<<(std::ostream& os, const std::vector<std::uint8_t>& v) {
  return os << '[' << hc::test::to_hex(v) << ']';
}
}  // namespace std
