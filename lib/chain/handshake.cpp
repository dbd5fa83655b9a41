#include "chain/handshake.hpp"

#include <cstdint>
#include <vector>

#include "chain/chain_error.hpp"

namespace hc::chain {
namespace {

std::error_code mid_reply(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    return ChainErrc::closed_during_handshake;
  }
  return ec;
}

}  // namespace

awaitable<std::error_code> run_handshake(
    transport::Stream& stream, proto::Handshake& codec, proto::Stage& stage, bool first_send_done,
    std::size_t* received, std::function<std::vector<std::uint8_t>()> behind_request) {
  using Kind = proto::Step::Kind;
  std::vector<std::uint8_t> buffer;
  proto::Step step = first_send_done ? codec.resume({}) : codec.start();
  for (;;) {
    stage = step.stage;
    if (step.kind == Kind::done) {
      co_return std::error_code{};
    }
    if (step.kind == Kind::fail) {
      co_return step.ec;
    }
    if (step.kind == Kind::send) {
      if (step.stage == proto::Stage::request && behind_request) {
        const std::vector<std::uint8_t> tail = behind_request();
        step.bytes.insert(step.bytes.end(), tail.begin(), tail.end());
      }
      auto [ec, n] = co_await stream.write_all(step.bytes);
      if (ec) {
        co_return ec;
      }
      step = codec.resume({});
      continue;
    }
    buffer.resize(step.size);
    std::size_t got = 0;
    if (step.kind == Kind::recv_exactly) {
      auto [ec, n] = co_await stream.read_exactly(buffer);
      if (ec) {
        co_return mid_reply(ec);
      }
      got = n;
    } else {
      auto [ec, n] = co_await stream.read_some(buffer);
      if (ec) {
        co_return mid_reply(ec);
      }
      got = n;
    }
    if (received != nullptr) {
      *received += got;
    }
    step = codec.resume(std::span<const std::uint8_t>(buffer.data(), got));
  }
}

}  // namespace hc::chain
