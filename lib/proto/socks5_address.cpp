#include "proto/socks5_address.hpp"
