#include "app/tunnel_session.hpp"

#include <algorithm>
#include <string>

#include "chain/strategy.hpp"
#include "log/log.hpp"
#include "transport/first_bytes.hpp"

namespace hc::app {
namespace {

/// A reset rather than a FIN: the tunnel failed, and a clean end would pass for an answer.
void abort_local(transport::Stream& local) {
  if (tcp::socket* bottom = local.bottom(); bottom != nullptr && bottom->is_open()) {
    std::error_code ignored;
    bottom->set_option(asio::socket_base::linger(true, 0), ignored);
  }
  local.close();
}

/// The error of a chain that ended before its first byte, named after its last hop.
chain::ChainError early_end_error(const chain::Hop& last, std::size_t length,
                                  const relay::RelayStats& stats) {
  const std::error_code& reason = stats.down.error;
  return chain::ChainError::of_hop(
      length, length, last.redacted, proto::Stage::relay, chain::ChainErrc::ended_before_first_byte,
      !reason || reason == asio::error::eof ? "EOF" : reason.message());
}

/// The first bytes the last request did not carry go first (all of them after a sequential
/// handshake; `glued` went with it). A failed write shows up again as the relay's first read.
/// The relay's options, with the user's bytes counted as sent.
awaitable<relay::RelayOptions> send_first_bytes(transport::Stream& remote,
                                                const transport::FirstBytes& first_bytes,
                                                std::size_t glued, relay::LiveBytes* live) {
  const std::size_t first_count = first_bytes.bytes().size();
  glued = std::min(glued, first_count);
  if (glued < first_count) {
    co_await remote.write_all(first_bytes.bytes().subspan(glued));
  }
  relay::RelayOptions relay_options = relay::relay_options_from_environment();
  relay_options.local_ended = first_bytes.local_ended();
  relay_options.live = live;
  if (live != nullptr) {
    *live = {first_count, 0};
  }
  co_return relay_options;
}

}  // namespace

awaitable<TunnelOutcome> run_tunnel(transport::Stream& local, const chain::Hops& hops,
                                    const proto::HostPort& target, chain::Services& services,
                                    TunnelOptions options) {
  transport::RawIo* raw = local.raw_io();
  transport::FirstBytes first_bytes(options.optimistic_data && raw != nullptr ? raw->read_fd()
                                                                              : -1);
  if (options.optimistic_data) {
    first_bytes.watch(raw);
  }
  chain::ConnectionAttempts attempts;
  TunnelOutcome out;
  for (;;) {
    out.chain =
        co_await chain::open_chain_with_strategy(hops, target, services, &first_bytes, &attempts);
    if (options.on_chain) {
      options.on_chain(out.chain);
    }
    if (out.chain.error) {
      if (out.opened) {
        abort_local(local);
      }
      co_return out;
    }
    transport::Stream& remote = *out.chain.stream;
    if (!out.opened) {
      out.opened = true;
      if (options.on_open && !co_await options.on_open(remote)) {
        remote.close();
        co_return out;
      }
    }

    const std::size_t first_count = first_bytes.bytes().size();
    relay::RelayOptions relay_options =
        co_await send_first_bytes(remote, first_bytes, out.chain.first_bytes_sent, options.live);
    // Through hops, a tunnel that ends before its first byte may be a hop's failure (OpenSSH -D
    // grants first and connects afterwards) or the target's answer: the two look the same. Only
    // a hop the user marked grants-early=1 has the user's bytes sent again on another chain;
    // through any other, another chain is tried only while nothing of the user's went up.
    // The last hop of the chain opened: the one an early end is laid at.
    const chain::Hop* last = out.chain.path.empty() ? nullptr : out.chain.path.back().get();
    const bool may_resend = last != nullptr && last->spec.grants_early;
    if (last == nullptr) {
      out.stats = co_await relay::relay(local, remote, relay_options);
    } else {
      out.stats = co_await relay::relay_watching_first_byte(local, remote, first_bytes, may_resend,
                                                            relay_options);
    }
    out.relayed = true;
    out.stats.up.bytes += first_count;
    remote.close();
    if (!out.stats.ended_before_first_byte) {
      co_return out;
    }

    // Nothing reached the user: leave the last hop out (counting its failure only when it
    // grants early, so that a target cannot mark a healthy hop dead) and, if the strategy
    // allows, try other hops.
    chain::ChainError error = early_end_error(*last, out.chain.path.size(), out.stats);
    if (options.on_chain) {
      chain::ChainResult ended;
      ended.error = error;
      options.on_chain(ended);
    }
    const bool again = services.planner != nullptr &&
                       chain::retry_without_last_hop(*services.planner, attempts, may_resend);
    if (!again) {
      out.chain.error = std::move(error);
      abort_local(local);
      co_return out;
    }
    log::verbose(services.log_tag + error.message() + "; retrying without " + last->redacted +
                 (may_resend ? ", sending " + std::to_string(first_bytes.bytes().size()) +
                                   " bytes again (grants-early=1)"
                             : std::string(", which had nothing of the user's")));
  }
}

}  // namespace hc::app
