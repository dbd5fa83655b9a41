/// The netrc file (`$NETRC`, else `~/.netrc`), shared with curl, ftp and git: a fallback for the
/// passwords of hops that name a user without one, after hopchain's own credentials file.
///
/// Syntax as curl (7.84 and later) reads it: whitespace-separated tokens across lines;
///   machine NAME  login USER  password PASS  account X (ignored)
///   default       (the entry for any host no machine entry serves)
///   macdef NAME   (a macro: skipped up to the next empty line)
/// A token starting with `#` comments out the rest of its line; `"..."` quotes a token, with
/// `\"`, `\\`, `\n`, `\r`, `\t` escapes (a password with a space or a leading `#`).
///
/// Only a hop whose URL names a user takes a password from here, and only from an entry whose
/// login is that user: a hop without a user never gets one, so a `default` entry cannot send a
/// password to a proxy that asked for none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/proxy_url.hpp"

namespace hc::app {

struct NetrcEntry {
  std::string machine;  ///< empty for `default`
  bool is_default = false;
  std::string login;
  std::string password;
  bool has_login = false;
  bool has_password = false;
};

/// Parses a netrc's text. The error names the line, never a token (which may be a password).
Result<std::vector<NetrcEntry>> parse_netrc(std::string_view text);

/// The password for `user` at `host` (matched case-insensitively, as written in the URL): the
/// first `machine` entry with that login and a password, else the first such `default` entry.
/// Null when there is none.
const std::string* netrc_password(const std::vector<NetrcEntry>& entries, std::string_view host,
                                  std::string_view user);

/// Gives every hop that still needs a password (needs_password) the netrc's, when it has one.
void fill_from_netrc(std::vector<proto::HopSpec>& hops, const std::vector<NetrcEntry>& entries);

/// True when the st_mode lets group or others read or write the file: refused, as ftp does,
/// since it holds passwords.
bool netrc_too_open(unsigned mode);

}  // namespace hc::app
