/// The bytes the user sent up before the tunnel answered. They go with the last hop's request
/// where that hop takes them (optimistic data), else first thing once the chain is open. Bytes
/// read but never written (a chain failed first) go on the next chain; bytes already written go
/// again only when the chain's last hop has grants-early=1 (app/tunnel_session.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "transport/stream.hpp"

namespace hc::transport {

class FirstBytes {
 public:
  /// Enough for any request a client sends before its first answer.
  static constexpr std::size_t kDefaultLimit = 64 * 1024;

  /// `fd`: the local side's read descriptor, for poll(); -1 when nothing may be read early.
  explicit FirstBytes(int fd = -1, std::size_t limit = kDefaultLimit) : fd_(fd), limit_(limit) {}

  /// Reads what the local side has already delivered, without waiting, up to the limit. Uses
  /// poll() and read() on the descriptor as it is, so a shared stdin keeps its flags; a regular
  /// file counts as ready. EOF is recorded (local_ended), never read twice (a tty's EOF is once).
  void poll();

  /// The local side to wait on before poll_more() (null: never waits).
  void watch(RawIo* local) { local_ = local; }
  /// The watched local side, or null when no more can be taken early: not watched, ended, at
  /// the limit.
  RawIo* waitable() const;
  /// poll() once the local side was seen readable: false when that gave nothing (an error, or a
  /// regular file at its end, left for the relay).
  bool poll_more();

  /// Records bytes the relay carried up. Past the limit they are no longer kept and complete()
  /// turns false: a retry could not replay them.
  void record(std::span<const std::uint8_t> bytes);
  void mark_local_ended() { local_ended_ = true; }

  std::span<const std::uint8_t> bytes() const { return held_; }
  /// Whether bytes() is everything the user sent so far.
  bool complete() const { return !overflowed_; }
  /// The local side's EOF was read (by poll() or the relay).
  bool local_ended() const { return local_ended_; }

 private:
  int fd_;
  std::size_t limit_;
  RawIo* local_ = nullptr;
  std::vector<std::uint8_t> held_;
  bool overflowed_ = false;
  bool local_ended_ = false;
};

}  // namespace hc::transport
