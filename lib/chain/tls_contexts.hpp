/// The TLS client contexts of a chain, built once at startup from the hops' TLS settings (and
/// --cafile), so that a missing CA file or key is a usage error before anything connects. Hops
/// with the same settings share one context; every connection of a forward reuses them.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/ssl/context.hpp>

#include "proto/proxy_url.hpp"

namespace hc::chain {

struct TlsSetupError {
  std::size_t hop = 0;  ///< 1-based
  std::string message;  ///< "cannot read CA file /x: No such file or directory"
};

class TlsContexts {
 public:
  /// Builds a context for each TLS hop. `default_cafile` (--cafile) applies to hops without
  /// ?cafile=; empty means the system store.
  std::optional<TlsSetupError> build(const std::vector<proto::HopSpec>& hops,
                                     const std::string& default_cafile);
  /// The context of hop `index` (0-based), or nullptr if the hop is not TLS or was not built.
  asio::ssl::context* for_hop(std::size_t index) const {
    return index < per_hop_.size() ? per_hop_[index] : nullptr;
  }

 private:
  std::vector<std::unique_ptr<asio::ssl::context>> owned_;
  std::vector<asio::ssl::context*> per_hop_;
};

}  // namespace hc::chain
