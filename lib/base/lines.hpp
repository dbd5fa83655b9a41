/// Line-by-line reading of a text already in memory (config, chain, credentials, users, netrc
/// and cache files), so that every reader splits lines the same way.
#pragma once

#include <string_view>

namespace hc {

/// Takes the next line off the front of `text` and returns it without its '\n'. A '\r' before
/// it stays: readers that accept CRLF files strip it themselves.
inline std::string_view take_line(std::string_view& text) {
  const std::size_t nl = text.find('\n');
  const std::string_view line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  return line;
}

}  // namespace hc
