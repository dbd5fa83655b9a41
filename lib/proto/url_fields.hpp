/// The text rules proxy URLs share between their parts (userinfo, host, query): percent-decoding
/// and the characters a host name may hold.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace hc::proto::url {

inline constexpr std::size_t kFieldMax = 255;
/// File names in TLS parameters: PATH_MAX on Linux.
inline constexpr std::size_t kPathMax = 4096;

/// Percent-decodes a userinfo field or a query value and applies the checks that only make sense
/// after decoding (%0D is a CR): UrlError::bad_percent_encoding, forbidden_character (a control
/// character), field_too_long (over `max_size` bytes).
std::error_code decode_field(std::string_view in, std::string& out,
                             std::size_t max_size = kFieldMax);

/// A letter, digit, '-', '.' or '_'.
bool is_host_char(char c);

}  // namespace hc::proto::url
