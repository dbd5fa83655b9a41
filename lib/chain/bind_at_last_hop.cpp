#include "chain/bind_at_last_hop.hpp"

#include <utility>

#include "chain/handshake.hpp"
#include "chain/hop_steps.hpp"
#include "chain/open_chain.hpp"
#include "log/durations.hpp"
#include "proto/errors.hpp"
#include "proto/socks_bind.hpp"
#include "transport/deadline.hpp"

namespace hc::chain {
namespace {

using log::seconds_text;

std::unique_ptr<proto::Handshake> make_bind_codec(const proto::HopSpec& hop,
                                                  proto::HostPort expected_peer) {
  if (hop.protocol == proto::Protocol::socks4) {
    return std::make_unique<proto::Socks4Bind>(std::move(expected_peer), hop.user.value_or(""),
                                               hop.remote_dns);
  }
  return std::make_unique<proto::Socks5Bind>(std::move(expected_peer), hop.credentials());
}

// 0x07: command not supported; a server that knows only CONNECT may just hang up instead.
bool unsupported(std::error_code ec, proto::Stage stage) {
  return stage == proto::Stage::request &&
         (ec == proto::socks5_reply(0x07) || ec == ChainErrc::closed_during_handshake);
}

/// What to add to a failed BIND request, so that a hop that does not do BIND says so.
std::string refusal_detail(std::error_code ec, proto::Stage stage) {
  if (stage != proto::Stage::request) {
    return {};
  }
  if (unsupported(ec, stage)) {
    return "BIND refused: this hop does not seem to accept incoming connections";
  }
  // A reply code: the hop does BIND, but not this one (a rule, a port it will not open).
  if (ec.category() == proto::socks5_reply_category() ||
      ec.category() == proto::socks4_reply_category()) {
    return "the hop refused this BIND";
  }
  return "BIND request";
}

/// bound() or peer() of whichever BIND codec `codec` is.
proto::HostPort bind_address(const proto::Handshake& codec, bool peer) {
  if (const auto* s5 = dynamic_cast<const proto::Socks5Bind*>(&codec)) {
    return peer ? s5->peer() : s5->bound();
  }
  const auto& s4 = dynamic_cast<const proto::Socks4Bind&>(codec);
  return peer ? s4.peer() : s4.bound();
}

}  // namespace

std::optional<std::string> bind_refusal(const Hops& hops) {
  if (hops.empty()) {
    return "no hop: BIND needs a SOCKS4 or SOCKS5 hop (give one with -x)";
  }
  if (hops.back()->spec.protocol == proto::Protocol::http) {
    return hop_label(hops.size(), hops.size(), hops.back()->redacted) +
           ": BIND needs a SOCKS4 or SOCKS5 hop";
  }
  if (hops.back()->spec.gssapi.enabled) {
    // Its second reply would come through the protection layer, which BIND does not use yet.
    return hop_label(hops.size(), hops.size(), hops.back()->redacted) +
           ": BIND through a GSS-API (auth=gssapi) last hop is not supported";
  }
  return std::nullopt;
}

bool bind_unsupported(const ChainError& error) {
  return error.hop != 0 && error.hop == error.hops && unsupported(error.ec, error.stage);
}

LastHopBind::LastHopBind(HopPtr hop, std::size_t count, std::unique_ptr<transport::Stream> stream,
                         std::unique_ptr<proto::Handshake> codec)
    : hop_(std::move(hop)), count_(count), stream_(std::move(stream)), codec_(std::move(codec)) {}

std::string LastHopBind::who() const {
  return hop_label(count_, count_, hop_->redacted);
}

ChainError LastHopBind::error(proto::Stage stage, std::error_code ec, std::string detail) const {
  return ChainError::of_hop(count_, count_, hop_->redacted, stage, ec, std::move(detail));
}

awaitable<Result<LastHopBind, ChainError>> LastHopBind::open(const Hops& hops, Services& services,
                                                             proto::HostPort expected_peer) {
  const std::size_t n = hops.size();
  const HopPtr hop = hops.back();
  // Logs number the hops out of the whole chain, not out of the path to the last hop.
  Services labelled = services;
  labelled.label_hops = n;
  labelled.target_hop = hop->redacted;
  ChainResult path = co_await open_chain(first_hops(hops, n - 1), hop->spec.server, labelled);
  if (path.error) {
    ChainError e = std::move(*path.error);
    if (e.at_target()) {  // no hop before it: the "target" was the last hop itself
      e.hop = n;
      e.where = hop->redacted;
    }
    e.hops = n;
    co_return failure(std::move(e));
  }
  LastHopBind bind(hop, n, std::move(path.stream),
                   make_bind_codec(hop->spec, std::move(expected_peer)));
  if (hop->spec.tls) {
    TlsOutcome tls =
        co_await start_tls(bind.stream_, hop->spec, hop->tls.get(), services.connect_timeout);
    if (tls.ec) {
      co_return failure(bind.error(proto::Stage::tls, tls.ec, std::move(tls.detail)));
    }
  }
  proto::Stage stage = proto::Stage::auth;
  auto outcome =
      co_await transport::with_deadline(*bind.stream_->bottom(), services.connect_timeout,
                                        run_handshake(*bind.stream_, *bind.codec_, stage));
  if (!outcome) {
    co_return failure(
        bind.error(stage, ChainErrc::timed_out,
                   "no answer to BIND within " + seconds_text(services.connect_timeout)));
  }
  if (*outcome) {
    co_return failure(bind.error(stage, *outcome, refusal_detail(*outcome, stage)));
  }
  bind.listening_ = bind_address(*bind.codec_, false);
  if (proto::is_unspecified_address(bind.listening_.host)) {
    bind.answered_unspecified_ = bind.listening_.host;
    bind.listening_.host = hop->spec.server.host;
  }
  co_return std::move(bind);
}

awaitable<Result<proto::HostPort, ChainError>> LastHopBind::accept(
    std::chrono::milliseconds timeout) {
  proto::Stage stage = proto::Stage::accept;
  auto outcome = co_await transport::with_deadline(*stream_->bottom(), timeout,
                                                   run_handshake(*stream_, *codec_, stage, true));
  if (!outcome) {
    co_return failure(error(
        proto::Stage::accept, ChainErrc::timed_out,
        "nobody connected to " + listening_.to_string() + " within " + seconds_text(timeout)));
  }
  if (*outcome) {
    co_return failure(error(stage, *outcome));
  }
  co_return bind_address(*codec_, true);
}

}  // namespace hc::chain
