#include "chain/gss_hop.hpp"

#include "chain/chain_error.hpp"
#include "chain/handshake.hpp"
#include "log/durations.hpp"
#include "proto/errors.hpp"
#include "proto/socks5.hpp"
#include "proto/socks5_gssapi.hpp"
#include "transport/deadline.hpp"
#include "transport/gss_krb5.hpp"
#include "transport/gss_stream.hpp"

namespace hc::chain {
namespace {

/// The greeting, then RFC 1961: both read exactly, so nothing after the last message is taken.
awaitable<std::error_code> negotiate(transport::Stream& stream, proto::Handshake& greeting,
                                     proto::Handshake& negotiation, proto::Stage& stage) {
  if (const std::error_code ec = co_await run_handshake(stream, greeting, stage)) {
    co_return ec;
  }
  co_return co_await run_handshake(stream, negotiation, stage);
}

}  // namespace

awaitable<GssOutcome> start_gssapi(std::unique_ptr<transport::Stream>& stream,
                                   const proto::HopSpec& hop, const GssClientFactory& factory,
                                   std::chrono::milliseconds timeout) {
  const proto::GssapiOptions& options = hop.gssapi;
  auto context = factory ? factory(options.service, hop.server.host)
                         : transport::make_gss_client(options.service, hop.server.host);
  if (!context) {
    co_return GssOutcome{context.error(), proto::Stage::auth, {}, {}, {}};
  }
  proto::Socks5Options greeting_options;
  greeting_options.part = proto::Socks5Part::gssapi_greeting;
  proto::Socks5Connect greeting({}, std::nullopt, greeting_options);
  proto::gssapi::ClientNegotiation negotiation(**context, options.protection, options.require);
  proto::Stage stage = proto::Stage::auth;
  const auto outcome = co_await transport::with_deadline(
      *stream->bottom(), timeout, negotiate(*stream, greeting, negotiation, stage));
  if (!outcome) {
    co_return GssOutcome{
        ChainErrc::timed_out, stage, "no answer within " + log::seconds_text(timeout), {}, {}};
  }
  if (*outcome) {
    const bool refused = *outcome == proto::Socks5Error::no_acceptable_method ||
                         *outcome == proto::Socks5Error::method_not_offered;
    co_return GssOutcome{
        *outcome, stage, refused ? "GSS-API (method 0x01) was offered" : "", {}, {}};
  }
  GssOutcome done{{}, proto::Stage::auth, {}, (*context)->peer_name(), negotiation.selected()};
  if (done.level != proto::Protection::none) {
    stream =
        std::make_unique<transport::GssStream>(std::move(stream), std::move(*context), done.level);
  }
  co_return done;
}

}  // namespace hc::chain
