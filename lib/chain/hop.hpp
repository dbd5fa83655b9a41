/// A hop as every connection uses it, compiled once at startup: its settings, the URL that may be
/// logged, and its TLS client context (--cafile applied, files read). Hops are shared and never
/// change, so any subset of the configured list (a strategy's pick, a prefix for `check` or for
/// a UDP association's control connection) keeps what was compiled for each hop, and no
/// certificate file is read after startup.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <asio/ssl/context.hpp>

#include "base/result.hpp"
#include "proto/proxy_url.hpp"

namespace hc::chain {

struct Hop {
  proto::HopSpec spec;
  std::string redacted;  ///< spec.redacted(): no password
  /// Null unless spec.tls. Hops with the same TLS settings share one.
  std::shared_ptr<asio::ssl::context> tls;
};

using HopPtr = std::shared_ptr<const Hop>;
using Hops = std::vector<HopPtr>;

/// Compiles `specs` (path order). `default_cafile` (--cafile) applies to TLS hops without
/// ?cafile=; empty means the system store. A file that cannot be read fails the whole list:
/// "hop 2/3 socks5h+tls://b:1080: cannot read CA file /x: No such file or directory". A hop
/// with auth=gssapi fails it too in a binary built without GSS-API.
hc::Result<Hops> compile_hops(const std::vector<proto::HopSpec>& specs,
                              const std::string& default_cafile);

/// The first `count` of `hops`: the path to the hop after them.
Hops first_hops(const Hops& hops, std::size_t count);

}  // namespace hc::chain
