/// The contract between a sans-IO handshake codec and whoever does its I/O.
///
/// A codec never touches a socket. `start()` returns the first step; after each step the runner
/// calls `resume()` with what it got: nothing after a `send`, exactly `size` bytes after
/// `recv_exactly`, between 1 and `size` bytes after `recv_some`. End of stream during a handshake
/// is the runner's to report. A codec built for pipelining returns its whole request sequence in
/// the first `send`, so a chain can write several hops' handshakes before reading any reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "proto/types.hpp"

namespace hc::proto {

struct Step {
  enum class Kind : std::uint8_t { send, recv_exactly, recv_some, done, fail };

  Kind kind = Kind::fail;
  std::vector<std::uint8_t> bytes;  ///< send: the bytes to write, in one write
  std::size_t size = 0;             ///< recv_exactly: the count; recv_some: the most to read
  std::error_code ec;               ///< fail: why
  Stage stage = Stage::request;     ///< the stage this step belongs to

  static Step send(std::vector<std::uint8_t> data, Stage stage) {
    return {Kind::send, std::move(data), 0, {}, stage};
  }
  static Step recv_exactly(std::size_t n, Stage stage) {
    return {Kind::recv_exactly, {}, n, {}, stage};
  }
  static Step recv_some(std::size_t max, Stage stage) {
    return {Kind::recv_some, {}, max, {}, stage};
  }
  static Step done() { return {Kind::done, {}, 0, {}, Stage::request}; }
  static Step fail(std::error_code ec, Stage stage) { return {Kind::fail, {}, 0, ec, stage}; }
};

/// A client handshake with one hop: asks the hop to open a tunnel to a target.
class Handshake {
 public:
  virtual ~Handshake() = default;
  virtual Step start() = 0;
  virtual Step resume(std::span<const std::uint8_t> received) = 0;
  /// Bytes read past the end of the final reply; they belong to the tunnel's payload.
  virtual std::span<const std::uint8_t> leftover() const { return {}; }
  /// Extra words for an error message (an HTTP status line), never a secret.
  virtual std::string detail() const { return {}; }
};

}  // namespace hc::proto
