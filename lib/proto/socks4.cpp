#include "proto/socks4.hpp"
