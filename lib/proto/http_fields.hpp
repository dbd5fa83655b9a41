/// Pieces of HTTP/1.x message syntax (RFC 9110, RFC 9112) shared by the request and response
/// head codecs of the HTTP proxy front.
#pragma once

#include <string_view>
#include <vector>

namespace hc::proto::http {

bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
/// RFC 9110 §5.6.2 tchar: method and field names.
bool is_token(std::string_view s);
/// A control byte other than HTAB.
bool has_control(std::string_view s);

struct Field {
  std::string_view name;
  std::string_view value;
};

/// Splits a head into its lines (CRLF or bare LF).
std::vector<std::string_view> split_lines(std::string_view head);
/// The header fields of lines[1..] up to the empty line; false for a malformed line (no colon,
/// space before the colon, obs-fold, control bytes: all smuggling vectors, RFC 9112 §5).
bool split_fields(const std::vector<std::string_view>& lines, std::vector<Field>& fields);

/// Headers that describe one connection only (RFC 9110 §7.6.1), never forwarded: Connection,
/// Keep-Alive, Proxy-Connection, Proxy-Authorization, TE, Trailer, Upgrade.
bool is_hop_by_hop(std::string_view name);
/// True when the comma-separated `list` (Connection options) names `name`.
bool listed_in(std::string_view list, std::string_view name);

/// Finds the end of a head (the empty line, "\n\r\n" or "\n\n") in `buffer`, scanning from
/// `from`; its size, 0 when not there yet.
std::size_t head_end(std::string_view buffer, std::size_t from);

}  // namespace hc::proto::http
