#include "chain/hop.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "chain/chain_error.hpp"
#include "proto/gssapi_errors.hpp"
#include "transport/gss_krb5.hpp"
#include "transport/tls_stream.hpp"

namespace hc::chain {
namespace {

transport::TlsClientSettings tls_settings(const proto::TlsOptions& o,
                                          const std::string& default_cafile) {
  transport::TlsClientSettings settings;
  settings.insecure = o.insecure;
  // An insecure hop verifies nothing, so a CA file it would not use must not fail the run.
  settings.cafile = o.insecure ? std::string() : (o.cafile.empty() ? default_cafile : o.cafile);
  settings.cert = o.cert;
  settings.key = o.key;
  return settings;
}

}  // namespace

hc::Result<Hops> compile_hops(const std::vector<proto::HopSpec>& specs,
                              const std::string& default_cafile) {
  using Key = std::tuple<std::string, std::string, std::string, bool>;
  std::map<Key, std::shared_ptr<asio::ssl::context>> by_settings;
  Hops hops;
  hops.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto hop = std::make_shared<Hop>();
    hop->spec = specs[i];
    hop->redacted = specs[i].redacted();
    if (hop->spec.gssapi.enabled && !transport::gss_available()) {
      return hc::failure(hop_label(i + 1, specs.size(), hop->redacted) + ": auth=gssapi: " +
                         make_error_code(proto::GssStatus::unavailable).message());
    }
    if (hop->spec.tls) {
      const auto settings = tls_settings(hop->spec.tls_options, default_cafile);
      const Key key{settings.cafile, settings.cert, settings.key, settings.insecure};
      auto& shared = by_settings[key];
      if (!shared) {
        auto context = transport::make_client_context(settings);
        if (!context) {
          return hc::failure(hop_label(i + 1, specs.size(), hop->redacted) + ": " +
                             context.error());
        }
        shared = std::move(*context);
      }
      hop->tls = shared;
    }
    hops.push_back(std::move(hop));
  }
  return hops;
}

Hops first_hops(const Hops& hops, std::size_t count) {
  return Hops(hops.begin(), hops.begin() + static_cast<long>(std::min(count, hops.size())));
}

}  // namespace hc::chain
