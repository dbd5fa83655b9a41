#include "chain/probe.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "chain/chain_attempt.hpp"
#include "chain/chain_log.hpp"
#include "chain/handshake.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/errors.hpp"
#include "proto/socks5.hpp"
#include "transport/deadline.hpp"

namespace hc::chain {
namespace {

using log::seconds_text;

/// "hop 2/3 socks5://b:1080": the probed hop (the last of `hops`), numbered out of the chain.
std::string probe_label(const Hops& hops, const Services& services) {
  return hop_label(hops.size(), std::max(hops.size(), services.label_hops), hops.back()->redacted);
}

/// The path to the probed hop: the hops before it, asked for its address.
awaitable<ChainResult> open_path(const Hops& hops, Services& services) {
  const HopPtr probed = hops.back();
  const Hops path = first_hops(hops, hops.size() - 1);
  Services path_services = services;  // the path to the hop logs the hop by its URL
  path_services.label_hops = std::max(services.label_hops, hops.size());
  path_services.target_hop = probed->redacted;
  std::optional<ChainLog> log;
  ChainObserver& observer = observer_for(path_services, path, probed->spec.server, log);
  AttemptOutcome path_outcome =
      co_await attempt_chain(path, probed->spec.server, path_services, observer, nullptr);
  co_return std::move(path_outcome.result);
}

}  // namespace

awaitable<PipelineVerdict> probe_pipelining(Hops hops, Services& services) {
  // Detail only (-vv): the verdict is the caller's to report, and none of this is a failure.
  const std::string whom = services.log_tag + probe_label(hops, services);
  ChainResult path = co_await open_path(hops, services);
  if (path.error) {
    log::debug(whom + ": not reached (" + path.error->message() + ")");
    co_return PipelineVerdict::unknown;
  }
  proto::Socks5Connect codec({"127.0.0.1", 1}, hops.back()->spec.credentials(),
                             proto::Socks5Options{proto::Socks5Command::connect, true});
  proto::Step first_step = codec.start();
  if (first_step.kind != proto::Step::Kind::send) {
    co_return PipelineVerdict::unknown;
  }
  // A server that parsed everything answers within a round trip; one that dropped the rest
  // answers the greeting and then waits forever.
  const auto patience = std::min(services.connect_timeout, std::chrono::milliseconds(3000));
  auto written = co_await transport::with_deadline(*path.stream->bottom(), patience,
                                                   path.stream->write_all(first_step.bytes));
  if (!written || std::get<0>(*written)) {
    co_return PipelineVerdict::unknown;
  }
  proto::Stage stage = proto::Stage::auth;
  auto outcome = co_await transport::with_deadline(*path.stream->bottom(), patience,
                                                   run_handshake(*path.stream, codec, stage, true));
  path.stream->close();
  if (!outcome) {
    // Silence is what a server that dropped our bytes looks like; a false "refuses" only costs
    // the sequential handshake every other client uses anyway.
    log::debug(whom + ": silent for " + seconds_text(patience) + " at the " +
               std::string(proto::to_string(stage)) + " step of a pipelined handshake");
    co_return PipelineVerdict::refuses;
  }
  const std::error_code ec = *outcome;
  // The test request asks for 127.0.0.1:1 so that it fails fast: a refusal is the answer hoped
  // for, and proves the hop read the request that came glued to the greeting.
  const bool request_parsed =
      !ec || ec.category() == proto::socks5_reply_category() ||
      (ec == ChainErrc::closed_during_handshake && stage == proto::Stage::request);
  log::debug(whom + ": pipelined greeting and test request for 127.0.0.1:1 " +
             (request_parsed
                  ? "both answered (" + (ec ? ec.message() + ", as intended" : "granted") + ")"
                  : "stopped at the " + std::string(proto::to_string(stage)) + " step (" +
                        ec.message() + ")"));
  co_return request_parsed ? PipelineVerdict::accepts : PipelineVerdict::unknown;
}

// A probe is nobody's connection: its lines say "probe" instead of the connection's tag.
awaitable<void> learn_pipelining(Hops hops, Services services, std::size_t chain_length) {
  services.log_tag = "probe ";
  services.label_hops = std::max(services.label_hops, chain_length);
  const PipelineVerdict verdict = co_await probe_pipelining(hops, services);
  const std::string whom = "probe " + probe_label(hops, services);
  if (verdict == PipelineVerdict::unknown) {
    log::debug(whom + ": no verdict");
  } else {
    log::verbose(whom + (verdict == PipelineVerdict::accepts ? ": accepts pipelining"
                                                             : ": does not accept pipelining"));
  }
  std::optional<ChainLog> log;
  observer_for(services, hops, hops.back()->spec.server, log)
      .on_pipelining_verdict(*hops.back(), verdict);
  if (services.pipeline_memory != nullptr) {
    services.pipeline_memory->probe_finished();
  }
}

}  // namespace hc::chain
