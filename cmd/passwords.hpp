/// Passwords for hops that name a user without one, from where people keep them.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "proto/proxy_url.hpp"

namespace hc::cli {

/// The netrc's path: $NETRC when set and not empty, else $HOME/.netrc; empty when neither is
/// known. Arguments are the environment values (may be null).
std::string netrc_path(const char* netrc, const char* home);

/// Fills every hop that needs a password, first source first: the credentials file in
/// `config_dir`, the netrc (read only when a hop is still left), $HOPCHAIN_PASSWORD. Prints the
/// error and returns false when a file cannot be used or a hop is left without a password.
bool fill_passwords(std::vector<proto::HopSpec>& hops, const std::string& config_dir, bool quiet,
                    std::ostream& err);

}  // namespace hc::cli
