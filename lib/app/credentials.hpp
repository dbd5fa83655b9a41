/// Named chains (`-c NAME`), their extra `strategy`/`chain-len` lines, and passwords for hops
/// given with a user but no password: a netrc-style credentials file, then the netrc
/// (app/netrc.hpp), then $HOPCHAIN_PASSWORD.
///
/// Credentials file (`$XDG_CONFIG_HOME/hopchain/credentials`, else
/// `~/.config/hopchain/credentials`): whitespace-separated tokens,
///   machine HOST port PORT login USER password PASS
/// and comment lines as in the users file (is_comment_line: `#` first on the line; a `#`
/// elsewhere is part of a word, so a password may hold one).
/// `port` may be left out to match any port. Passwords never appear in any message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "chain/strategy.hpp"
#include "proto/proxy_url.hpp"

namespace hc::app {

/// `$XDG_CONFIG_HOME/hopchain` when that is set and absolute, else `$HOME/.config/hopchain`;
/// empty when neither is known. Arguments are the environment values (may be null).
std::string config_dir(const char* xdg_config_home, const char* home);

struct CredentialEntry {
  std::string machine;
  std::optional<std::uint16_t> port;  ///< absent: any port
  std::string login;
  std::string password;
};

/// Parses the credentials file's text. The error names the entry's position, never a password.
Result<std::vector<CredentialEntry>> parse_credentials(std::string_view text);

/// True for a hop whose URL has a user but no password and whose protocol carries a password
/// (a socks4 user id has none).
bool needs_password(const proto::HopSpec& hop);

/// Gives every hop that needs a password the first matching entry's (same host as written, same
/// login, same port unless the entry names none).
void fill_from_credentials(std::vector<proto::HopSpec>& hops,
                           const std::vector<CredentialEntry>& entries);

/// Gives every hop that still needs a password `env_password` (HOPCHAIN_PASSWORD; may be null).
void fill_from_environment(std::vector<proto::HopSpec>& hops, const char* env_password);

/// The error for the first hop still without a password: where one could come from. Empty when
/// none needs one. The paths are for the message (empty: not known).
std::string missing_password(const std::vector<proto::HopSpec>& hops,
                             const std::string& credentials_path, const std::string& netrc_path);

/// A chain file with the named-chain extras: `strategy NAME` and `chain-len N` lines.
struct ChainFile {
  std::vector<proto::HopSpec> hops;
  std::optional<chain::Strategy> strategy;
  std::optional<std::size_t> chain_len;
};
/// Ports may be service names for `services` (see proto::parse_proxy_url). The error reads
/// "LINE: reason".
Result<ChainFile> parse_chain_text(std::string_view text, proto::ServiceLookup services = nullptr);

/// True when group or others may read `path` (ssh's test for a private key). False when it
/// cannot be checked.
bool readable_by_others(const std::string& path);

}  // namespace hc::app
