/// JSON output of the modes that print it (check --json, remote --json).
#pragma once

#include <string>
#include <string_view>

namespace hc::app {

/// `s` as a JSON string literal, quotes included; control characters as \u00XX.
std::string json_string(std::string_view s);

}  // namespace hc::app
