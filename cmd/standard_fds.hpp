/// Descriptors 0, 1 and 2 open from the start. Started with one closed (`hopchain ... <&-`), the
/// first descriptor opened later (an eventfd of the event loop, a socket) would take its number:
/// stdio mode would relay the event loop's counter to the target, and log lines could land in a
/// socket. A closed descriptor therefore becomes /dev/null: a closed stdin reads as empty (EOF),
/// a closed stdout or stderr discards what is written to it.
#pragma once

namespace hc::cli {

/// Opens /dev/null on each of 0, 1, 2 that is closed. False if that failed.
bool open_standard_fds();

}  // namespace hc::cli
