#include "chain/tls_contexts.hpp"

#include <map>
#include <tuple>

#include "transport/tls_stream.hpp"

namespace hc::chain {

std::optional<TlsSetupError> TlsContexts::build(const std::vector<proto::HopSpec>& hops,
                                                const std::string& default_cafile) {
  using Key = std::tuple<std::string, std::string, std::string, bool>;
  std::map<Key, asio::ssl::context*> by_settings;
  std::vector<std::unique_ptr<asio::ssl::context>> owned;
  std::vector<asio::ssl::context*> per_hop(hops.size(), nullptr);
  for (std::size_t i = 0; i < hops.size(); ++i) {
    if (!hops[i].tls) {
      continue;
    }
    const proto::TlsOptions& o = hops[i].tls_options;
    transport::TlsClientSettings settings;
    settings.insecure = o.insecure;
    // An insecure hop verifies nothing, so a CA file it would not use must not fail the run.
    settings.cafile = o.insecure ? std::string() : (o.cafile.empty() ? default_cafile : o.cafile);
    settings.cert = o.cert;
    settings.key = o.key;
    const Key key{settings.cafile, settings.cert, settings.key, settings.insecure};
    if (const auto found = by_settings.find(key); found != by_settings.end()) {
      per_hop[i] = found->second;
      continue;
    }
    auto context = transport::make_client_context(settings);
    if (!context) {
      return TlsSetupError{i + 1, context.error()};
    }
    per_hop[i] = context->get();
    by_settings.emplace(key, context->get());
    owned.push_back(std::move(*context));
  }
  owned_ = std::move(owned);
  per_hop_ = std::move(per_hop);
  return std::nullopt;
}

}  // namespace hc::chain
