/// What every successfully parsed hop must satisfy, shared by the URL and chain-file targets.
#pragma once

#include <algorithm>
#include <string>

#include "fuzz_driver.hpp"
#include "proto/proxy_url.hpp"

namespace hc::fuzz {

inline bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

inline void check_hop(const proto::HopSpec& hop) {
  HC_FUZZ_CHECK(!hop.scheme.empty());
  HC_FUZZ_CHECK(!hop.server.host.empty() && hop.server.host.size() <= 255);
  HC_FUZZ_CHECK(hop.server.port != 0);
  HC_FUZZ_CHECK(!has_control(hop.server.host));
  if (hop.user) {
    HC_FUZZ_CHECK(hop.user->size() <= 255 && !has_control(*hop.user));
  }
  if (hop.password) {
    HC_FUZZ_CHECK(hop.user.has_value());
    HC_FUZZ_CHECK(hop.password->size() <= 255 && !has_control(*hop.password));
  }
  const std::string shown = hop.redacted();
  HC_FUZZ_CHECK(!has_control(shown));
  // The redacted form does not depend on the password at all, so it cannot leak it.
  if (hop.password) {
    proto::HopSpec other = hop;
    other.password = *hop.password + "x";
    HC_FUZZ_CHECK(other.redacted() == shown);
  }
  (void)hop.credentials();
}

}  // namespace hc::fuzz
