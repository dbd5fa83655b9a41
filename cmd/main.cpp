#include <iostream>
#include <string>
#include <vector>

#include "argv_secrets.hpp"
#include "cli.hpp"
#include "standard_fds.hpp"

int main(int argc, char** argv) {
  if (!hc::cli::open_standard_fds()) {
    return 1;  // nowhere to say why: stderr is one of the closed descriptors
  }
  // The parser works on copies; the originals, which ps shows, lose their passwords first.
  const std::vector<std::string> args(argv, argv + argc);
  hc::cli::scrub_argv_passwords(argc, argv);
  std::vector<const char*> copies;
  for (const auto& arg : args) {
    copies.push_back(arg.c_str());
  }
  auto outcome = hc::cli::parse(argc, copies.data(), std::cout, std::cerr);
  if (!outcome.config) {
    return outcome.exit_code;
  }
  return hc::app::run(*outcome.config);
}
