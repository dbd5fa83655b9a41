/// `socks --users FILE`: the accounts the local SOCKS server accepts with RFC 1929.
///
/// One `user:password` per line (the first colon splits; the password may hold colons). Blank
/// lines and comment lines (is_comment_line: `#` first) are ignored; a `#` elsewhere is part of
/// the password. The file holds passwords, so one that group or others can access is refused, as
/// ssh refuses an unprotected private key; so is one that is not a regular file or over 1 MiB.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/types.hpp"

namespace hc::app {

/// Parses the file's text. The error names the line (never its password).
Result<std::vector<proto::Credentials>> parse_users(std::string_view text);

/// Opens FILE (read_config_file), checks its permissions (no access for group or others), reads and
/// parses it. The error names the file.
Result<std::vector<proto::Credentials>> load_users_file(const std::string& path);

/// True when `user` exists and `password` is its password. Comparing the password takes the
/// same time wherever the first difference is, so timing tells a guesser nothing.
bool check_user(const std::vector<proto::Credentials>& users, std::string_view user,
                std::string_view password);

}  // namespace hc::app
