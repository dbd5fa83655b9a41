/// Reads the password sources in order and fills the hops from them.
#include "passwords.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "app/config_file.hpp"
#include "app/credentials.hpp"
#include "app/netrc.hpp"

namespace hc::cli {
namespace {

bool any_needs_password(const std::vector<proto::HopSpec>& hops) {
  return std::any_of(hops.begin(), hops.end(), app::needs_password);
}

/// A missing file is fine (the next source may do); one that cannot be read is an error.
bool read_optional(const std::string& path, app::ConfigFileText& file, std::ostream& err) {
  if (path.empty()) {
    file.missing = true;
    return true;
  }
  file = app::read_config_file(path);
  if (!file.missing && !file.error.empty()) {
    err << "hopchain: cannot read " << path << ": " << file.error << "\n";
    return false;
  }
  return true;
}

bool use_credentials_file(std::vector<proto::HopSpec>& hops, const std::string& path, bool quiet,
                          std::ostream& err) {
  app::ConfigFileText file;
  if (!read_optional(path, file, err)) {
    return false;
  }
  if (file.missing) {
    return true;
  }
  const auto entries = app::parse_credentials(file.text);
  app::wipe(file.text);
  if (!entries) {
    err << "hopchain: " << path << ": " << entries.error() << "\n";
    return false;
  }
  if (!quiet && app::readable_by_others(path)) {
    err << "hopchain: warning: " << path
        << " holds passwords and is readable by group or others (chmod 600 it)\n";
  }
  app::fill_from_credentials(hops, *entries);
  return true;
}

/// Refused when group or others may read or write it, as ftp refuses one: it is shared with
/// other tools, and hopchain will not be the one that quietly uses an exposed password.
bool use_netrc(std::vector<proto::HopSpec>& hops, const std::string& path, std::ostream& err) {
  app::ConfigFileText file;
  if (!read_optional(path, file, err)) {
    return false;
  }
  if (file.missing) {
    return true;
  }
  if (app::netrc_too_open(file.mode)) {
    app::wipe(file.text);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", file.mode & 0777U);
    err << "hopchain: refusing " << path << ": its permissions are too open (" << mode
        << "): group or others may read or write it; chmod 600 it\n";
    return false;
  }
  const auto entries = app::parse_netrc(file.text);
  app::wipe(file.text);
  if (!entries) {
    err << "hopchain: " << path << ": " << entries.error() << "\n";
    return false;
  }
  app::fill_from_netrc(hops, *entries);
  return true;
}

}  // namespace

std::string netrc_path(const char* netrc, const char* home) {
  if (netrc != nullptr && netrc[0] != '\0') {
    return netrc;
  }
  if (home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.netrc";
  }
  return {};
}

bool fill_passwords(std::vector<proto::HopSpec>& hops, const std::string& config_dir, bool quiet,
                    std::ostream& err) {
  if (!any_needs_password(hops)) {
    return true;
  }
  const std::string credentials = config_dir.empty() ? std::string() : config_dir + "/credentials";
  if (!use_credentials_file(hops, credentials, quiet, err)) {
    return false;
  }
  const std::string netrc = netrc_path(std::getenv("NETRC"), std::getenv("HOME"));
  if (any_needs_password(hops) && !use_netrc(hops, netrc, err)) {
    return false;
  }
  app::fill_from_environment(hops, std::getenv("HOPCHAIN_PASSWORD"));
  if (const std::string error = app::missing_password(hops, credentials, netrc); !error.empty()) {
    err << "hopchain: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace hc::cli
