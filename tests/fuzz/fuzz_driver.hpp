/// Shared pieces of the fuzz targets: an invariant check that aborts (so libFuzzer and the replay
/// test both report it), and a runner that plays fuzzer bytes into a sans-IO handshake the way
/// chain::run_handshake does, optionally in smaller pieces than asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "proto/step.hpp"

#define HC_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace hc::fuzz {

/// Takes configuration bytes off the front of the input; 0 once it is used up.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data, size) {}
  std::uint8_t byte() {
    if (data_.empty()) {
      return 0;
    }
    const std::uint8_t b = data_.front();
    data_ = data_.subspan(1);
    return b;
  }
  std::span<const std::uint8_t> rest() const { return data_; }

 private:
  std::span<const std::uint8_t> data_;
};

struct DriveResult {
  proto::Step::Kind end = proto::Step::Kind::fail;  ///< done, fail, or recv_* (input ran out)
  std::error_code ec;
  std::size_t consumed = 0;  ///< reply bytes handed to the codec
};

/// Plays `reply` into `codec`. `chunk` 0 hands over what each step asks for; otherwise at most
/// `chunk` bytes per resume (a runner that delivers in pieces).
inline DriveResult drive(proto::Handshake& codec, std::span<const std::uint8_t> reply,
                         std::size_t chunk) {
  using Kind = proto::Step::Kind;
  DriveResult r;
  proto::Step step = codec.start();
  // Every step either consumes input or sends; a codec that loops without doing either is a bug.
  for (int steps = 0;; ++steps) {
    HC_FUZZ_CHECK(steps < 100000);
    switch (step.kind) {
      case Kind::done:
        r.end = Kind::done;
        return r;
      case Kind::fail:
        HC_FUZZ_CHECK(step.ec);
        r.end = Kind::fail;
        r.ec = step.ec;
        // A failed codec stays failed.
        HC_FUZZ_CHECK(codec.resume({}).kind == Kind::fail);
        return r;
      case Kind::send:
        HC_FUZZ_CHECK(!step.bytes.empty());
        step = codec.resume({});
        continue;
      case Kind::recv_exactly:
      case Kind::recv_some:
        break;
    }
    HC_FUZZ_CHECK(step.size > 0);
    const std::size_t available = reply.size() - r.consumed;
    if (available == 0) {
      r.end = step.kind;  // the server's EOF: the runner reports it, not the codec
      return r;
    }
    std::size_t n = step.size < available ? step.size : available;
    if (chunk != 0 && n > chunk) {
      n = chunk;
    }
    if (step.kind == Kind::recv_exactly && chunk == 0 && n < step.size) {
      r.end = step.kind;  // read_exactly hit EOF part-way: the runner fails without resuming
      return r;
    }
    // Exact-size copy, so an over-read by the codec is a heap overflow under ASan.
    const std::vector<std::uint8_t> piece(
        reply.begin() + static_cast<std::ptrdiff_t>(r.consumed),
        reply.begin() + static_cast<std::ptrdiff_t>(r.consumed + n));
    r.consumed += n;
    step = codec.resume(piece);
  }
}

}  // namespace hc::fuzz
