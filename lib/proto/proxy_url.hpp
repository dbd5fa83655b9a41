/// Proxy URLs (`socks5h://user:pass@host:1080`) and chain files (one URL per line) into HopSpecs.
///
/// The scheme says how a hop is asked for the next address: socks4 and socks5 get an IP address
/// that hopchain resolves itself; socks4a, socks5h and http get the name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/types.hpp"

namespace hc::proto {

enum class Protocol : std::uint8_t { socks4, socks5, http };

struct HopSpec {
  std::string scheme;  ///< as written, lower-cased: "socks5h"
  Protocol protocol = Protocol::socks5;
  bool remote_dns = true;  ///< the hop gets names; false: hopchain resolves them first
  bool tls = false;
  HostPort server;
  std::optional<std::string> user;      ///< percent-decoded
  std::optional<std::string> password;  ///< percent-decoded; never printed

  std::optional<Credentials> credentials() const;
  /// "socks5h://user@host:1080": never the password. Safe for logs and errors.
  std::string redacted() const;
};

/// Parses one URL. Default ports: 1080 for SOCKS, 8080 for http.
std::error_code parse_proxy_url(std::string_view url, HopSpec& out);

struct ChainFileResult {
  std::vector<HopSpec> hops;
  std::error_code ec;
  std::size_t error_line = 0;  ///< 1-based line of the error
};
/// One URL per line; blank lines and `#` comments (whole-line or trailing) are ignored.
ChainFileResult parse_chain_file(std::string_view text);

}  // namespace hc::proto
