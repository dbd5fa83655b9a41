/// `hopchain check [HOST PORT]`: walks the chain hop by hop with open_chain on growing prefixes
/// (hops before k, asked for hop k's address), timing each, and prints a table or JSON. Under a
/// non-strict strategy each hop is checked on its own, since any of them may be picked.
/// It also says whether each hop takes pipelined handshakes: what the pipeline memory knows, or
/// else (unless --pipeline=never) what a probe through the hops before it finds, remembered in
/// auto mode so the next run pipelines that hop from its first connection.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/check_bind.hpp"
#include "app/json_text.hpp"
#include "app/modes.hpp"
#include "chain/pipeline_memory.hpp"
#include "chain/probe.hpp"
#include "chain/strategy.hpp"
#include "log/log.hpp"

namespace hc::app {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string label;  ///< "1", "2", ... or "target"
  std::string url;    ///< redacted
  std::string protocol;
  std::optional<double> connect_ms;    ///< until the hop's port answered (through earlier hops)
  std::optional<double> handshake_ms;  ///< the hop's handshake, including its connect onward
  std::optional<double> total_ms;
  std::string result = "untested";  ///< ok, reachable, failed, untested
  std::string error;
  /// yes, no, unknown (a probe found nothing conclusive), not probed, n/a (never pipelined)
  std::string pipelining = "n/a";
  std::string pipelining_source;  ///< "cache" or "probe"; empty when nothing is known
  std::string via;  ///< target row under a non-strict strategy: the hops the strategy picked
  std::optional<BindVerdict> bind;  ///< --bind: whether the hop accepts BIND
  std::string gssapi;               ///< GSS-API hops: the negotiated protection level, once known
  /// The PROTO column: the scheme, and for a GSS-API hop its mechanism and level.
  std::string proto_text() const {
    return gssapi.empty() ? protocol : protocol + " gss:krb5/" + gssapi;
  }
};

struct Timed {
  chain::ChainResult chain;
  double ms = 0;
};

awaitable<Timed> timed_open(chain::Hops hops, proto::HostPort target, chain::Services& services) {
  const auto t0 = Clock::now();
  Timed t;
  t.chain = co_await chain::open_chain(std::move(hops), std::move(target), services);
  t.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (t.chain.stream) {
    t.chain.stream->close();
  }
  co_return t;
}

Row hop_row(std::size_t index, const chain::Hop& hop) {
  Row row;
  row.label = std::to_string(index + 1);
  row.url = hop.redacted;
  row.protocol = hop.spec.scheme;
  return row;
}

/// The target's row; "not tested" until a walk reaches it (check without HOST PORT keeps it so).
Row target_row(const Config& config) {
  Row row;
  row.label = "target";
  row.url = config.check_target ? config.check_target->to_string() : std::string();
  row.result = "not tested";
  return row;
}

std::string ms_text(const std::optional<double>& ms) {
  if (!ms) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fms", *ms);
  return buf;
}

std::string json_ms(const std::optional<double>& ms) {
  if (!ms) {
    return "null";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *ms);
  return buf;
}

/// "yes (listening at 192.0.2.1:40000)", or "-" for the target and without --bind.
std::string bind_text(const Row& r) {
  if (!r.bind) {
    return "-";
  }
  return r.bind->detail.empty() || r.bind->word == "not reached"
             ? r.bind->word
             : r.bind->word + " (" + r.bind->detail + ")";
}

void print_table(const std::vector<Row>& rows, bool with_bind, std::ostream& out) {
  std::size_t url_width = 3;
  std::size_t proto_width = 5;
  for (const auto& r : rows) {
    url_width = std::max(url_width, r.url.size());
    proto_width = std::max(proto_width, r.proto_text().size());
  }
  auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d, const std::string& e, const std::string& f,
                  const std::string& g, const std::string& h, const std::string& bind) {
    char buf[64];
    std::string s = a;
    s.resize(7, ' ');
    std::string u = b;
    u.resize(url_width + 2, ' ');
    std::string p = c;
    p.resize(proto_width + 2, ' ');
    std::snprintf(buf, sizeof buf, "%10s %10s %10s  ", d.c_str(), e.c_str(), f.c_str());
    std::string pipelining = g;
    pipelining.resize(12, ' ');
    out << s << u << p << buf << pipelining << h;
    if (with_bind) {
      out << (h.size() < 24 ? std::string(24 - h.size(), ' ') : std::string("  ")) << bind;
    }
    out << "\n";
  };
  line("HOP", "URL", "PROTO", "CONNECT", "HANDSHAKE", "TOTAL", "PIPELINE", "RESULT", "BIND");
  for (const auto& r : rows) {
    if (r.result == "not tested") {
      continue;  // no HOST PORT: the table has no target row
    }
    std::string result = r.error.empty() ? r.result : r.result + ": " + r.error;
    if (!r.via.empty()) {
      result += " (" + r.via + ")";
    }
    line(r.label, r.url, r.proto_text(), ms_text(r.connect_ms), ms_text(r.handshake_ms),
         ms_text(r.total_ms), r.label == "target" ? "-" : r.pipelining, result, bind_text(r));
  }
}

void print_json(const Config& config, const std::vector<Row>& rows, bool ok, std::ostream& out) {
  out << "{\"strategy\":" << json_string(std::string(chain::to_string(config.strategy.strategy)))
      << ",\"hops\":[";
  bool first = true;
  std::string target = "null";
  for (const auto& r : rows) {
    std::ostringstream o;
    o << "{";
    if (r.label == "target") {
      o << "\"address\":" << (r.url.empty() ? "null" : json_string(r.url))
        << ",\"via\":" << (r.via.empty() ? "null" : json_string(r.via));
    } else {
      o << "\"hop\":" << r.label << ",\"url\":" << json_string(r.url)
        << ",\"protocol\":" << json_string(r.protocol)
        << ",\"connect_ms\":" << json_ms(r.connect_ms)
        << ",\"handshake_ms\":" << json_ms(r.handshake_ms)
        << ",\"pipelining\":" << json_string(r.pipelining) << ",\"pipelining_source\":"
        << (r.pipelining_source.empty() ? "null" : json_string(r.pipelining_source))
        << ",\"bind\":" << (r.bind ? json_string(r.bind->word) : "null") << ",\"bind_detail\":"
        << (r.bind && !r.bind->detail.empty() ? json_string(r.bind->detail) : "null");
    }
    o << ",\"total_ms\":" << json_ms(r.total_ms) << ",\"result\":" << json_string(r.result)
      << ",\"error\":" << (r.error.empty() ? "null" : json_string(r.error)) << "}";
    if (r.label == "target") {
      target = o.str();
      continue;
    }
    out << (first ? "" : ",") << o.str();
    first = false;
  }
  out << "],\"target\":" << target << ",\"ok\":" << (ok ? "true" : "false") << "}\n";
}

double ms_of(std::chrono::microseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

/// The times of every hop of one chain, from that chain's own clock: hop j+1 was reached when hop
/// j's tunnel opened, and hop j's handshake lasted from the step before it (the first connect,
/// or hop j-1's tunnel) to its reply. Taken from a single walk, they add up: no later hop can
/// come out sooner than an earlier one, as the difference of two walks could (one of them may
/// have been pipelined, or just slower).
void fill_times(const chain::ChainTiming& timing, std::vector<Row>& rows) {
  if (!timing.connected || rows.empty()) {
    return;
  }
  rows[0].connect_ms = ms_of(*timing.connected);
  std::chrono::microseconds previous = *timing.connected;
  for (std::size_t j = 0; j < timing.hops.size() && j < rows.size(); ++j) {
    const auto& tunnel = timing.hops[j].tunnel;
    if (!tunnel) {
      return;
    }
    if (!timing.hops[j].gssapi.empty()) {
      rows[j].gssapi = timing.hops[j].gssapi;
    }
    rows[j].handshake_ms = ms_of(*tunnel - previous);
    rows[j].total_ms = ms_of(*tunnel);
    if (j + 1 < rows.size()) {
      rows[j + 1].connect_ms = ms_of(*tunnel);
    }
    previous = *tunnel;
  }
}

/// Marks the row of the hop a failed walk blames, given that the walk asked hop k's
/// predecessors for hop k's address (k = hops.size() for the target). The error's own words
/// follow, without its "hop j/n URL: " prefix: the prefix chain's numbering would mislead.
void blame_row(const chain::ChainError& e, std::size_t k, std::vector<Row>& rows) {
  // The walk's target is hop k: what blames no hop of the walk is hop k being unreachable.
  const std::size_t row = chain::blamed_hop(e, k).value_or(k);
  rows[row].result = "failed";
  rows[row].error = e.reason();
  if (row == k && k > 0) {
    rows[k - 1].result = "ok";  // it answered; the hop after it is what is unreachable
    rows[row].error = "via hop " + std::to_string(k) + ": " + rows[row].error;
  }
}

/// Strict walk: prefix k-1 asked for hop k's address shows whether hop k can be reached; the
/// times all come from the longest walk that succeeded (fill_times).
awaitable<void> walk_chain(const Config& config, chain::Services& services,
                           std::vector<Row>& rows) {
  const chain::Hops& hops = services.planner->hops();
  for (std::size_t i = 0; i < hops.size(); ++i) {
    rows.push_back(hop_row(i, *hops[i]));
  }
  chain::ChainTiming longest;
  for (std::size_t k = 0; k < hops.size(); ++k) {
    auto t = co_await timed_open(chain::first_hops(hops, k), hops[k]->spec.server, services);
    if (t.chain.error) {
      blame_row(*t.chain.error, k, rows);
      fill_times(longest, rows);
      co_return;
    }
    longest = t.chain.timing;
    if (k > 0) {
      rows[k - 1].result = "ok";
    }
    rows[k].result = "reachable";  // until its own handshake is exercised
  }
  if (!config.check_target) {
    fill_times(longest, rows);
    co_return;
  }
  Row target = target_row(config);
  auto t = co_await timed_open(hops, *config.check_target, services);
  if (t.chain.error) {
    const auto& e = *t.chain.error;
    if (const auto blamed = chain::blamed_hop(e, hops.size())) {
      rows[*blamed].result = "failed";
      rows[*blamed].error = e.message();
    } else {
      target.result = "failed";
      target.error = e.message();
      if (!hops.empty()) {
        rows.back().result = "ok";
      }
    }
  } else {
    longest = t.chain.timing;
    if (!hops.empty()) {
      rows.back().result = "ok";
    }
    target.total_ms = ms_of(t.chain.timing.total);
    target.result = "ok";
  }
  fill_times(longest, rows);
  rows.push_back(std::move(target));
}

/// Any hop may be picked: each is checked alone, through nothing, and then the target through
/// whichever hops the strategy picks.
awaitable<void> check_each(const Config& config, chain::Services& services,
                           std::vector<Row>& rows) {
  const chain::Hops& hops = services.planner->hops();
  for (std::size_t i = 0; i < hops.size(); ++i) {
    const chain::HopPtr& hop = hops[i];
    Row row = hop_row(i, *hop);
    auto reach = co_await timed_open(chain::Hops{}, hop->spec.server, services);
    if (reach.chain.error) {
      // The walk's target was the hop itself: its error must not speak of a "target".
      row.result = "failed";
      row.error = reach.chain.error->reason();
    } else {
      row.connect_ms = reach.ms;
      row.result = "reachable";
      if (config.check_target) {
        chain::Hops one;  // not a braced list: g++ 12 coroutine bug
        one.push_back(hop);
        auto t = co_await timed_open(std::move(one), *config.check_target, services);
        if (t.chain.error) {
          row.result = "failed";
          row.error = t.chain.error->message();
        } else {
          std::vector<Row> timed(1);
          fill_times(t.chain.timing, timed);
          row.connect_ms = timed[0].connect_ms;
          row.handshake_ms = timed[0].handshake_ms;
          row.total_ms = timed[0].total_ms;
          row.result = "ok";
        }
      }
    }
    rows.push_back(std::move(row));
  }
  Row target = target_row(config);
  if (config.check_target) {
    // What a connection would do: the strategy picks the hops, skipping the dead ones.
    const auto t0 = Clock::now();
    auto chain = co_await chain::open_chain_with_strategy(hops, *config.check_target, services);
    if (chain.error) {
      target.result = "failed";
      target.error = chain.error->message();
    } else {
      chain.stream->close();
      target.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      target.result = "ok";
      std::string via;
      for (const auto& used : chain.timing.hops) {
        via += (via.empty() ? "via " : ", ") + used.hop;
      }
      target.error.clear();
      target.via = via;
    }
  }
  rows.push_back(std::move(target));
}

/// open_chain pipelines, in auto mode, only the hops it learns about: plain SOCKS5 ones.
bool may_pipeline(const proto::HopSpec& hop) {
  return hop.protocol == proto::Protocol::socks5 && !hop.tls && !hop.gssapi.enabled;
}

std::string verdict_word(chain::PipelineVerdict verdict) {
  switch (verdict) {
    case chain::PipelineVerdict::accepts:
      return "yes";
    case chain::PipelineVerdict::refuses:
      return "no";
    case chain::PipelineVerdict::unknown:
      break;
  }
  return "unknown";
}

/// Fills each row's pipelining column. A verdict already known (remembered from earlier runs) is
/// shown as it is; an unknown one is probed through the hops before it (through nothing under a
/// non-strict strategy), if the walk reached the hop and the mode allows it, and remembered in
/// auto mode. `claimed`: the hops whose probe this run owns (see run_check).
awaitable<void> settle_pipelining(const Config& config, chain::Services& services,
                                  chain::PipelineMemory& memory, const std::vector<bool>& claimed,
                                  std::vector<Row>& rows) {
  const chain::Hops& hops = services.planner->hops();
  const bool strict = config.strategy.strategy == chain::Strategy::strict;
  std::vector<std::string> probed_here;  // URLs probed by this run, for repeated hops
  for (std::size_t i = 0; i < hops.size() && i < rows.size(); ++i) {
    Row& row = rows[i];
    const proto::HopSpec& hop = hops[i]->spec;
    if (!may_pipeline(hop)) {
      continue;
    }
    chain::PipelineVerdict verdict = memory.verdict(hop);
    if (verdict != chain::PipelineVerdict::unknown) {
      row.pipelining = verdict_word(verdict);
      const bool ours =
          std::find(probed_here.begin(), probed_here.end(), hop.redacted()) != probed_here.end();
      row.pipelining_source = ours ? "probe" : "cache";
      continue;
    }
    if (!claimed[i]) {
      row.pipelining = config.pipeline == chain::PipelineMode::never ? "not probed" : "unknown";
      continue;
    }
    if (!row.connect_ms) {
      row.pipelining = "unknown";  // the walk did not reach it: nothing to probe through
      continue;
    }
    verdict = co_await chain::probe_pipelining(probe_path(hops, i, strict), services);
    log::verbose(chain::hop_label(i + 1, hops.size(), hop.redacted()) +
                 ": pipelined handshake probe: " + std::string(chain::to_string(verdict)));
    if (verdict != chain::PipelineVerdict::unknown &&
        config.pipeline == chain::PipelineMode::automatic) {
      memory.record(hop, verdict);
    }
    probed_here.push_back(hop.redacted());
    row.pipelining = verdict_word(verdict);
    row.pipelining_source = "probe";
  }
}

/// --bind: each hop the walk reached is asked for a BIND (check_bind.hpp). Informative only: a
/// hop without BIND does not fail the check.
awaitable<void> settle_bind(const Config& config, chain::Services& services,
                            std::vector<Row>& rows) {
  const std::size_t hops = services.planner->hops().size();
  std::vector<bool> reached(hops, false);
  for (std::size_t i = 0; i < hops && i < rows.size(); ++i) {
    reached[i] = rows[i].result == "ok" || rows[i].result == "reachable";
  }
  std::vector<BindVerdict> verdicts = co_await probe_binds(config, services, reached);
  for (std::size_t i = 0; i < verdicts.size() && i < rows.size(); ++i) {
    rows[i].bind = std::move(verdicts[i]);
  }
}

}  // namespace

awaitable<int> run_check(const Config& config, chain::Services& services) {
  // Under --pipeline=never nothing is learnt or probed, but what earlier runs learnt is shown.
  std::optional<chain::PipelineMemory> remembered;
  chain::PipelineMemory* memory = services.pipeline_memory;
  if (config.pipeline == chain::PipelineMode::never || memory == nullptr) {
    memory = &remembered.emplace(chain::PipelineMemory::default_path());
  }
  // Probes of unknown hops are claimed before the walk, so that its connections do not start
  // background probes of their own: check probes them itself, after the walk, and waits.
  std::vector<bool> claimed(config.hops.size(), false);
  if (config.pipeline != chain::PipelineMode::never && memory == services.pipeline_memory) {
    for (std::size_t i = 0; i < config.hops.size(); ++i) {
      claimed[i] = may_pipeline(config.hops[i]) && memory->claim_probe(config.hops[i]);
    }
  }
  std::vector<Row> rows;
  if (config.strategy.strategy == chain::Strategy::strict) {
    co_await walk_chain(config, services, rows);
  } else {
    co_await check_each(config, services, rows);
  }
  if (rows.empty() || rows.back().label != "target") {
    rows.push_back(target_row(config));  // a hop failed before the target's turn
  }
  co_await settle_pipelining(config, services, *memory, claimed, rows);
  if (config.check_bind) {
    co_await settle_bind(config, services, rows);
  }
  for (const bool c : claimed) {
    if (c) {
      memory->probe_finished();
    }
  }
  bool ok = true;
  for (const auto& r : rows) {
    // Without HOST PORT the last hop's handshake cannot be exercised: reachable is a pass, and
    // the target is not tested.
    ok = ok && (r.result == "ok" || r.result == "reachable" || r.result == "not tested");
  }
  if (config.check_json) {
    print_json(config, rows, ok, std::cout);
  } else {
    print_table(rows, config.check_bind, std::cout);
  }
  std::cout.flush();
  co_return ok ? 0 : 1;
}

}  // namespace hc::app
