#include "proto/socks5.hpp"
