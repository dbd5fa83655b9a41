#include "proto/rfc1929.hpp"
