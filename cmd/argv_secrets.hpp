/// Proxy passwords given on the command line (`-x socks5://user:PASS@host`) would stay readable
/// by every local user in /proc/PID/cmdline (ps) for the whole run. As curl does for -u and -x,
/// the original argv strings, which are what the kernel shows, are overwritten after copying.
#pragma once

namespace hc::cli {

/// Hides the password of a URL in ARG, in place: every `scheme://user:PASS@host...` loses PASS
/// (as written, percent-encoding included) for `***`, the rest of the argument moved up and the
/// bytes freed at its end zeroed; a password shorter than three bytes is overwritten with as
/// many `*`. The URL is split as the URL parser splits it (authority up to the first '/', '?' or
/// '#', user information up to its last '@'). Returns true if it hid something.
bool scrub_url_password(char* arg);

/// scrub_url_password over argv[1..argc-1] (any argument: -x URL, -xURL, --via=URL). Returns
/// how many passwords were hidden.
int scrub_argv_passwords(int argc, char** argv);

}  // namespace hc::cli
