/// The command line: argv -> app::Config. Kept free of I/O beyond printing help and errors.
#pragma once

#include <iosfwd>
#include <optional>

#include "app/config.hpp"

namespace hc::cli {

struct ParseOutcome {
  std::optional<app::Config> config;  ///< set when the program should run
  int exit_code = 0;                  ///< otherwise: 0 after --help/--version, 2 on usage error
};

ParseOutcome parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace hc::cli
