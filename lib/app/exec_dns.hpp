/// exec's resolver: the stub's two sockets inside the command's namespace and the resolv.conf
/// that names them (the plan's part, before the fork), then the stub served on them and the
/// mapping of its fake addresses back to names for the TCP capture (the parent's part).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/captured_tcp.hpp"
#include "app/config.hpp"
#include "base/result.hpp"
#include "capture/fake_addresses.hpp"
#include "capture/namespace.hpp"
#include "chain/services.hpp"
#include "proto/types.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// The resolver the stub asks through the chain, from --dns-server or the host's resolv.conf;
/// the error names the fix.
Result<proto::HostPort> exec_dns_upstream(const Config& config);

/// How many sockets plan_exec_dns appends to the plan's extra sockets.
inline constexpr std::ptrdiff_t kDnsStubSockets = 2;

/// Appends the stub's UDP socket and TCP listener (127.0.0.53:53 in the namespace: loopback,
/// which the capture rules leave alone) to `plan.extra_sockets`, and writes the namespace's
/// resolv.conf to a private temporary file named in `plan.resolv_conf`. The caller removes
/// that file once the namespace has started (its bind mount keeps the content).
Result<void> plan_exec_dns(capture::NamespacePlan& plan);

/// Serves the stub on `sockets` (its UDP socket, then its listener) until the loop stops, and
/// returns the TCP capture's mapper: a fake address goes to the chain as its name; one that the
/// pool does not hold (given before a restart, or recycled) is refused and logged.
CapturedTarget serve_exec_dns(const Config& config, const proto::HostPort& upstream,
                              std::vector<int> sockets, bool ipv6, chain::Services& services,
                              const asio::any_io_executor& ex);

}  // namespace hc::app
