/// The only place where a sans-IO codec meets a stream.
#pragma once

#include <cstdint>
#include <functional>
#include <system_error>
#include <vector>

#include "proto/step.hpp"
#include "transport/stream.hpp"

namespace hc::chain {

/// Runs `codec` over `stream` until done or failed. `stage` tracks the step in progress, so a
/// caller whose deadline fired can still say which stage timed out. EOF mid-reply becomes
/// ChainErrc::closed_during_handshake. `first_send_done`: the caller already called start() and
/// wrote its bytes as part of a pipelined batch, so only the replies are read here.
/// `received`, when set, counts the reply bytes read (0: the peer never said a word).
/// `behind_request`, when set, is called as the request (the step of Stage::request) is sent;
/// what it returns goes out in the same write, right behind it (the user's first bytes).
awaitable<std::error_code> run_handshake(
    transport::Stream& stream, proto::Handshake& codec, proto::Stage& stage,
    bool first_send_done = false, std::size_t* received = nullptr,
    std::function<std::vector<std::uint8_t>()> behind_request = {});

}  // namespace hc::chain
