#include "chain/open_chain.hpp"

#include <algorithm>
#include <string>

#include "chain/handshake.hpp"
#include "chain/hop_steps.hpp"
#include "chain/loop_guard.hpp"
#include "chain/refusal_body.hpp"
#include "dns/resolver.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/errors.hpp"
#include "proto/http_connect.hpp"
#include "proto/socks4.hpp"
#include "proto/socks5.hpp"
#include "transport/connect.hpp"
#include "transport/deadline.hpp"
#include "transport/prefixed_stream.hpp"
#include "transport/tls_stream.hpp"

namespace hc::chain {
namespace {

using log::ms_since;
using log::seconds_text;

// How long a refusing HTTP proxy's body may take to arrive (it follows the head at once).
constexpr std::chrono::milliseconds kRefusalWait{250};

using Clock = std::chrono::steady_clock;

}  // namespace

std::unique_ptr<proto::Handshake> make_handshake(const proto::HopSpec& hop,
                                                 const proto::HostPort& next, bool pipelined) {
  switch (hop.protocol) {
    case proto::Protocol::socks4:
      return std::make_unique<proto::Socks4Connect>(next, hop.user.value_or(""), hop.remote_dns);
    case proto::Protocol::socks5:
      return std::make_unique<proto::Socks5Connect>(
          next, hop.credentials(), proto::Socks5Options{proto::Socks5Command::connect, pipelined});
    case proto::Protocol::http:
      return std::make_unique<proto::HttpConnect>(next, hop.credentials());
  }
  return nullptr;
}

namespace {

/// One attempt at the chain. Sets `pipelining_failed` when a pipelined hop went silent or hung
/// up mid-handshake: that hop is then marked as refusing, and a sequential attempt may follow.
awaitable<ChainResult> open_chain_once(Hops hops, proto::HostPort target, Services& services,
                                       bool& pipelining_failed,
                                       transport::FirstBytes* first_bytes) {
  const std::size_t count = hops.size();
  std::size_t first_bytes_sent = 0;  // the user's bytes written behind the last request so far
  auto fail = [&](std::size_t hop, proto::Stage stage, std::error_code ec, std::string detail) {
    ChainError e;
    e.hop = hop;
    e.hops = count;
    e.where = hop == 0 ? target.to_string() : hops[hop - 1]->redacted;
    e.stage = stage;
    e.ec = ec;
    e.detail = std::move(detail);
    if (stage == proto::Stage::request && hop >= 1) {
      // Hop `hop` was asked for the next hop's address, or for the target's (which is the next
      // hop itself for a UDP association's control connection).
      const bool next_is_hop = hop < count || services.label_hops > count;
      const std::string next =
          hop < count ? hops[hop]->spec.server.to_string() : target.to_string();
      e.asked =
          next_is_hop ? "hop " + std::to_string(hop + 1) + " (" + next + ")" : "the target " + next;
    }
    ChainResult failed{nullptr, std::move(e), {}};
    failed.first_bytes_sent = first_bytes_sent;
    return failed;
  };
  const std::size_t shown = std::max(count, services.label_hops);
  const std::string& tag = services.log_tag;
  auto label = [&](std::size_t hop) {
    return "hop " + std::to_string(hop) + "/" + std::to_string(shown) + " " +
           hops[hop - 1]->redacted;
  };

  // Stats (app/stats) report when each hop was ready, relative to this attempt's start.
  const auto attempt_started = Clock::now();
  ChainTiming timing;
  timing.target = target.to_string();
  for (const auto& hop : hops) {
    timing.hops.push_back(HopTiming{hop->redacted, {}, {}, false});
  }
  auto since_start = [&] {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt_started);
  };

  // 1. The first TCP connection: to hop 1, or to the target when there is no hop.
  const proto::HostPort first = count > 0 ? hops[0]->spec.server : target;
  const std::size_t first_hop = count > 0 ? 1 : 0;
  auto started = Clock::now();
  Resolved first_addresses = co_await resolve(services.resolver, first.host);
  if (first_addresses.ec) {
    co_return fail(first_hop, proto::Stage::resolve, first_addresses.ec, first.host);
  }
  if (count == 0 && services.target_check) {
    std::string refused;
    std::erase_if(first_addresses.addresses, [&](const asio::ip::address& a) {
      auto reason = services.target_check(a);
      if (reason && refused.empty()) {
        refused = a.to_string() + " is " + *reason;
      }
      return reason.has_value();
    });
    if (first_addresses.addresses.empty()) {
      co_return fail(0, proto::Stage::connect, ChainErrc::not_allowed, refused);
    }
  }
  if (const auto own = own_listener_among(first_addresses.addresses, first.port)) {
    co_return fail(first_hop, proto::Stage::connect, ChainErrc::own_listener,
                   proto::is_ipv4_literal(first.host) || proto::is_ipv6_literal(first.host)
                       ? std::string()
                       : own->address().to_string());
  }
  tcp::socket socket(co_await asio::this_coro::executor);
  std::error_code ec = co_await transport::connect_any(socket, first_addresses.addresses,
                                                       first.port, services.connect_timeout);
  if (ec) {
    co_return fail(first_hop, proto::Stage::connect, ec,
                   ec == asio::error::timed_out
                       ? "no answer within " + seconds_text(services.connect_timeout)
                       : "");
  }
  timing.connected = since_start();
  std::error_code no_peer;
  const tcp::endpoint first_peer = socket.remote_endpoint(no_peer);
  if (log::enabled(log::Level::verbose)) {
    const auto& peer = first_peer;
    // With no hop of its own, a chain whose target is a hop (label_hops) names that hop.
    const std::string whom =
        first_hop   ? label(1)
        : shown > 0 ? "hop 1/" + std::to_string(shown) + " " +
                          (services.target_hop.empty() ? first.to_string() : services.target_hop)
                    : "target " + first.to_string();
    log::verbose(tag + whom + ": connected to " + peer.address().to_string() + " in " +
                 ms_since(started));
  }
  std::unique_ptr<transport::Stream> stream =
      std::make_unique<transport::TcpStream>(std::move(socket));

  // 2. Each hop's handshake runs through the tunnel built so far. Hops that accept it get their
  // handshakes pipelined: a batch of consecutive hops is written at once, then each hop's replies
  // are read in order, so a chain costs one round trip per link instead of two or three per hop.
  PipelineMemory* memory = services.pipeline_memory;
  auto pipelines = [&](const proto::HopSpec& h) {
    if (memory != nullptr) {
      return memory->pipelines(h, services.pipeline_mode);
    }
    return services.pipeline_mode == PipelineMode::always;
  };
  for (std::size_t i = 0; i < count;) {
    const proto::HopSpec& hop = hops[i]->spec;
    if (hop.tls) {
      auto tls_outcome = co_await start_tls(stream, hop, hops[i]->tls.get(),
                                            services.connect_timeout, tag, label(i + 1));
      if (tls_outcome.ec) {
        co_return fail(i + 1, proto::Stage::tls, tls_outcome.ec, tls_outcome.detail);
      }
      timing.hops[i].tls = since_start();
    }
    started = Clock::now();
    const bool pipelined = pipelines(hop);
    std::size_t end = i + 1;
    // A TLS hop needs its own round trips first, so it starts a new batch.
    while (pipelined && end < count && !hops[end]->spec.tls && pipelines(hops[end]->spec)) {
      ++end;
    }
    std::vector<std::unique_ptr<proto::Handshake>> codecs;
    std::vector<proto::HostPort> nexts;
    std::vector<std::uint8_t> batch;
    for (std::size_t k = i; k < end; ++k) {
      proto::HostPort next = k + 1 < count ? hops[k + 1]->spec.server : target;
      if (!hops[k]->spec.remote_dns && !proto::is_ipv4_literal(next.host) &&
          !proto::is_ipv6_literal(next.host)) {
        Resolved r = co_await resolve_for_hop(services.resolver, hops[k]->spec, next.host);
        if (r.ec) {
          co_return fail(k + 1, proto::Stage::resolve, r.ec, next.host);
        }
        log::verbose(tag + label(k + 1) + ": resolved " + next.host + " to " +
                     r.addresses.front().to_string() + " here (the scheme takes addresses)");
        next.host = r.addresses.front().to_string();
      }
      if (hop_loops_back(hops, k, next, first_peer.address())) {
        co_return fail(k + 1, proto::Stage::request, ChainErrc::own_listener, next.to_string());
      }
      auto codec = make_handshake(hops[k]->spec, next, pipelined);
      if (pipelined) {
        proto::Step first_step = codec->start();
        if (first_step.kind == proto::Step::Kind::fail) {
          co_return fail(k + 1, first_step.stage, first_step.ec, codec->detail());
        }
        batch.insert(batch.end(), first_step.bytes.begin(), first_step.bytes.end());
      }
      codecs.push_back(std::move(codec));
      nexts.push_back(std::move(next));
    }
    const bool optimistic = pipelined && end == count && first_bytes != nullptr &&
                            takes_optimistic_data(hops.back()->spec);
    if (optimistic) {
      // The last request is on its way: bytes behind it reach the target as soon as the last hop
      // has connected, a round trip earlier than after its reply.
      first_bytes->poll();
      const auto early = first_bytes->bytes();
      batch.insert(batch.end(), early.begin(), early.end());
      first_bytes_sent = early.size();
    }
    if (pipelined) {
      log::debug(
          tag + label(i + 1) + ": writing the handshakes of hops " + std::to_string(i + 1) + "-" +
          std::to_string(end) + " in one go (" + std::to_string(batch.size()) + " bytes" +
          (first_bytes_sent > 0 ? ", " + std::to_string(first_bytes_sent) + " of them the user's"
                                : std::string()) +
          ")");
      auto written = co_await transport::with_deadline(*stream->bottom(), services.connect_timeout,
                                                       stream->write_all(batch));
      const std::error_code write_ec = written ? std::get<0>(*written) : ChainErrc::timed_out;
      if (write_ec) {
        co_return fail(i + 1, proto::Stage::auth, write_ec, "");
      }
    }
    for (std::size_t k = i; k < end; ++k) {
      if (optimistic && k > i) {
        // What the user wrote while the earlier replies came still beats the last reply: any
        // moment before it saves part of a round trip, at the cost of one poll per hop.
        first_bytes->poll();
        const auto more = first_bytes->bytes().subspan(first_bytes_sent);
        if (!more.empty()) {
          auto written = co_await transport::with_deadline(
              *stream->bottom(), services.connect_timeout, stream->write_all(more));
          const std::error_code write_ec = written ? std::get<0>(*written) : ChainErrc::timed_out;
          if (write_ec) {
            co_return fail(k + 1, proto::Stage::auth, write_ec, "");
          }
          log::debug(tag + label(count) + ": " + std::to_string(more.size()) +
                     " more bytes of the user's behind the request");
          first_bytes_sent += more.size();
        }
      }
      proto::Handshake& codec = *codecs[k - i];
      proto::Stage stage = proto::Stage::auth;
      std::size_t received = 0;
      auto outcome = co_await transport::with_deadline(
          *stream->bottom(), services.connect_timeout,
          run_handshake(*stream, codec, stage, pipelined, &received));
      const std::error_code failure = outcome ? *outcome : ChainErrc::timed_out;
      if (failure && k > 0 && received == 0 && !hops[k]->spec.tls &&
          (failure == ChainErrc::closed_during_handshake ||
           failure == asio::error::connection_reset || failure == asio::error::broken_pipe)) {
        // Hop k granted its tunnel, which then ended before hop k+1 said a word: what a hop that
        // grants before it connects (OpenSSH -D) does when its connect fails. Hop k is to blame.
        if (pipelined && services.pipeline_mode == PipelineMode::automatic && memory != nullptr) {
          memory->record(hops[k]->spec, PipelineVerdict::refuses);
          pipelining_failed = true;
        }
        co_return fail(k, proto::Stage::relay, ChainErrc::ended_before_first_byte,
                       "before hop " + std::to_string(k + 1) + " answered");
      }
      if (failure) {
        std::string detail =
            outcome ? codec.detail() : "no answer within " + seconds_text(services.connect_timeout);
        if (pipelined && services.pipeline_mode == PipelineMode::automatic &&
            (failure == ChainErrc::timed_out || failure == ChainErrc::closed_during_handshake)) {
          // It used to accept pipelining and now drops it: stop pipelining it.
          if (memory != nullptr) {
            memory->record(hops[k]->spec, PipelineVerdict::refuses);
          }
          pipelining_failed = true;
        }
        std::error_code reason = failure;
        if (hops[k]->spec.tls && outcome) {
          reason = co_await tls_reason(*stream, reason, services.connect_timeout);
          if (transport::is_tls_error(reason)) {
            stage = proto::Stage::tls;
          }
        }
        if (reason.category() == proto::http_status_category()) {
          // The status line, and what the body adds to it ("... unable to connect ...").
          const std::string words = co_await refusal_words(*stream, codec, detail, kRefusalWait);
          detail += words.empty() ? "" : ": " + words;
        }
        co_return fail(k + 1, stage, reason, std::move(detail));
      }
      timing.hops[k].tunnel = since_start();
      timing.hops[k].pipelined = pipelined;
      log::verbose(tag + label(k + 1) + ": tunnel to " + nexts[k - i].to_string() + " open in " +
                   ms_since(started) + (pipelined ? " (pipelined)" : ""));
      const auto leftover = codec.leftover();
      if (!leftover.empty()) {
        // Payload that came glued to the reply (an SSH banner, or with pipelining the next hop's
        // replies): it belongs to whatever reads next.
        stream = std::make_unique<transport::PrefixedStream>(
            std::move(stream), std::vector<std::uint8_t>(leftover.begin(), leftover.end()));
      }
    }
    if (pipelined && memory != nullptr) {
      for (std::size_t k = i; k < end; ++k) {
        memory->record(hops[k]->spec, PipelineVerdict::accepts);
      }
    }
    i = end;
    if (i == count) {
      timing.total = since_start();
      ChainResult result{std::move(stream), std::nullopt, std::move(timing)};
      result.first_bytes_sent = first_bytes_sent;
      co_return result;
    }
  }
  timing.total = since_start();
  co_return ChainResult{std::move(stream), std::nullopt, std::move(timing)};
}

/// "hop 2/3 socks5://b:1080": the probed hop (the last of `hops`), numbered out of the chain.
std::string probe_label(const Hops& hops, const Services& services) {
  return "hop " + std::to_string(hops.size()) + "/" +
         std::to_string(std::max(hops.size(), services.label_hops)) + " " + hops.back()->redacted;
}

// `services` by value: the caller's Services may be a per-connection copy (a strategy's subset)
// that is gone before the probe ends; what it points to lives as long as the process.
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
  if (services.pipeline_memory != nullptr) {
    if (verdict != PipelineVerdict::unknown) {
      services.pipeline_memory->record(hops.back()->spec, verdict);
    }
    services.pipeline_memory->probe_finished();
  }
}

void log_probe_end(std::exception_ptr e) {
  if (e) {
    log::debug("probe: ended by an internal error");
  }
}

}  // namespace

bool takes_optimistic_data(const proto::HopSpec& last_hop) {
  // SOCKS servers read exactly the request and relay whatever follows. Not HTTP CONNECT: a proxy
  // may read the request head with a buffered reader and drop what it read past the head, or
  // answer an error and parse the bytes as the next request.
  return last_hop.protocol == proto::Protocol::socks5 ||
         last_hop.protocol == proto::Protocol::socks4;
}

awaitable<ChainResult> open_chain(Hops hops, proto::HostPort target, Services& services,
                                  transport::FirstBytes* first_bytes) {
  bool pipelining_failed = false;
  ChainResult result =
      co_await open_chain_once(hops, target, services, pipelining_failed, first_bytes);
  if (result.error && pipelining_failed &&
      (result.first_bytes_sent == 0 ||
       (result.error->hop > 0 && hops[result.error->hop - 1]->spec.grants_early))) {
    // Nothing has reached the user yet, nor (unless the user allowed resending) anything of the
    // user's the target: one sequential attempt with the hop now marked.
    log::verbose(services.log_tag + result.error->message() +
                 "; retrying without pipelining that hop");
    bool again = false;
    result = co_await open_chain_once(hops, target, services, again, first_bytes);
  }
  if (!result.error && services.pipeline_mode == PipelineMode::automatic &&
      services.pipeline_memory != nullptr) {
    // Learn, off the user's path, whether the SOCKS5 hops we know nothing about would take a
    // pipelined handshake next time.
    const auto executor = co_await asio::this_coro::executor;
    for (std::size_t k = 0; k < hops.size(); ++k) {
      if (hops[k]->spec.protocol == proto::Protocol::socks5 && !hops[k]->spec.tls &&
          services.pipeline_memory->claim_probe(hops[k]->spec)) {
        asio::co_spawn(executor, learn_pipelining(first_hops(hops, k + 1), services, hops.size()),
                       log_probe_end);
      }
    }
  }
  co_return result;
}

awaitable<PipelineVerdict> probe_pipelining(Hops hops, Services& services) {
  // Detail only (-vv): the verdict is the caller's to report, and none of this is a failure.
  const std::string whom = services.log_tag + probe_label(hops, services);
  const HopPtr probed = hops.back();
  const proto::HopSpec& hop = probed->spec;
  hops.pop_back();
  Services path_services = services;  // the path to the hop logs the hop by its URL
  path_services.label_hops = std::max(services.label_hops, hops.size() + 1);
  path_services.target_hop = probed->redacted;
  bool ignored = false;
  ChainResult path = co_await open_chain_once(hops, hop.server, path_services, ignored, nullptr);
  if (path.error) {
    log::debug(whom + ": not reached (" + path.error->message() + ")");
    co_return PipelineVerdict::unknown;
  }
  proto::Socks5Connect codec({"127.0.0.1", 1}, hop.credentials(),
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

}  // namespace hc::chain
