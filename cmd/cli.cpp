#include "cli.hpp"

namespace hc::cli {
ParseOutcome parse(int, const char* const*, std::ostream&, std::ostream&) { return {{}, 2}; }
}  // namespace hc::cli
