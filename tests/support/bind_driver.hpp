/// Drives a BIND codec (proto/socks_bind.hpp) through both replies as one Handshake, for the
/// unit tests' and fuzz targets' drivers, which stop at the first `done`. It makes the move a
/// real caller makes between the replies: on the pause after the first reply, resume({}).
/// Header-only and free of Boost, so the fuzz targets can use it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "proto/socks_bind.hpp"

namespace hc::test {

template <class Bind>
class BothReplies final : public proto::Handshake {
 public:
  template <class... Args>
  explicit BothReplies(Args&&... args) : codec(std::forward<Args>(args)...) {}

  proto::Step start() override {
    pauses = 0;
    return next(codec.start());
  }
  proto::Step resume(std::span<const std::uint8_t> received) override {
    return next(codec.resume(received));
  }
  std::span<const std::uint8_t> leftover() const override { return codec.leftover(); }

  Bind codec;
  int pauses = 0;  ///< how many times the codec paused for the peer (1 once done)

 private:
  proto::Step next(proto::Step step) {
    if (step.kind == proto::Step::Kind::done &&
        codec.phase() == proto::BindPhase::waiting_for_peer) {
      ++pauses;
      return codec.resume({});
    }
    return step;
  }
};

}  // namespace hc::test
