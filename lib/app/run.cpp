#include "app/config.hpp"

namespace hc::app {
int run(const Config&) { return 1; }
}  // namespace hc::app
