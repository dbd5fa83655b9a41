#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  auto outcome = hc::cli::parse(argc, argv, std::cout, std::cerr);
  if (!outcome.config) {
    return outcome.exit_code;
  }
  return hc::app::run(*outcome.config);
}
