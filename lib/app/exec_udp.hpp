/// exec's UDP capture. Before the fork, the plan's part: in the namespace, marked datagrams are
/// routed back in through lo (an ip rule and a local route), nftables `tproxy` hands them to one
/// socket with their destination, and a helper that makes reply sockets is started
/// (capture/reply_helper.hpp). After it, hopchain's part: each flow goes through the chain's UDP
/// associations (captured_udp.hpp), and replies reach the program from where it sent.
#pragma once

#include <vector>

#include "app/captured_udp.hpp"
#include "app/config.hpp"
#include "app/modes.hpp"
#include "app/stats.hpp"
#include "capture/namespace.hpp"
#include "chain/services.hpp"
#include "transport/asio.hpp"

namespace hc::app {

/// Appends the UDP capture to `plan`: its setup, its two extra sockets (the tproxy socket, then
/// the reply helper's channel) and its rules.
void plan_exec_udp(capture::NamespacePlan& plan);

/// Serves the datagrams of `sockets` (the two that plan_exec_udp added, in its order) until the
/// loop stops; `target` maps a destination to what the chain is asked for (fake DNS addresses
/// to names). When the helper does not answer, it says so and the datagrams go nowhere. The
/// flows count in udp_totals.captured_flows (apart from the TCP tunnels, which exec waits for
/// at exit); `services` and `udp_totals` must outlive the loop.
void serve_exec_udp(const Config& config, std::vector<int> sockets, CapturedUdpTarget target,
                    chain::Services& services, UdpTotals& udp_totals,
                    const asio::any_io_executor& ex);

}  // namespace hc::app
