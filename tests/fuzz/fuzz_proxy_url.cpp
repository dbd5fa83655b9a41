/// Proxy URL parsing over arbitrary text. Whatever is accepted must be encodable without
/// surprises (a host, a port, bounded and control-free credentials), and the redacted form used
/// in messages must be printable and never carry the password.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_driver.hpp"
#include "fuzz_hop_checks.hpp"
#include "proto/proxy_url.hpp"

namespace {

/// Stands in for /etc/services: some names are known, some not.
std::uint16_t fake_services(std::string_view name) {
  return name.size() % 2 == 0 ? static_cast<std::uint16_t>(1000 + name.size()) : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  hc::proto::HopSpec named;
  if (!hc::proto::parse_proxy_url(text, named, fake_services)) {
    hc::fuzz::check_hop(named);
  }
  hc::proto::HopSpec hop;
  const auto ec = hc::proto::parse_proxy_url(text, hop);
  if (ec) {
    (void)ec.message();
    return 0;
  }
  hc::fuzz::check_hop(hop);
  // Deterministic: the same text parses to the same hop.
  hc::proto::HopSpec again;
  HC_FUZZ_CHECK(!hc::proto::parse_proxy_url(text, again));
  HC_FUZZ_CHECK(again.server == hop.server && again.user == hop.user &&
                again.password == hop.password && again.scheme == hop.scheme);
  return 0;
}
