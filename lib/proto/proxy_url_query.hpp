/// The query of a proxy URL (`?cafile=...&auth=gssapi&...`): TLS settings, GSS-API settings and
/// grants-early, into a HopSpec whose scheme, userinfo and host are already parsed.
#pragma once

#include <string_view>
#include <system_error>

#include "proto/proxy_url.hpp"

namespace hc::proto {

std::error_code parse_query(std::string_view query, HopSpec& hop);

}  // namespace hc::proto
