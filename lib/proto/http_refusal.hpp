/// The words a refusing HTTP proxy puts in its body, for the error message: tinyproxy answers a
/// CONNECT it could not complete with "500 Unable to connect" and, in an HTML body, "tinyproxy
/// was unable to connect to the remote web server." - the line that says what happened.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace hc::proto {

/// How much of a refusal's body is worth reading for its summary.
inline constexpr std::size_t kRefusalBodyLimit = 4096;

/// The first line of readable text in `body` (HTML tags and entities dropped, whitespace
/// collapsed) that does not merely repeat `status_line`'s reason phrase; at most 160 characters,
/// control bytes never included. Empty when there is none (no body, binary, only the reason).
std::string refusal_summary(std::span<const std::uint8_t> body, std::string_view status_line);

}  // namespace hc::proto
