#include "proto/proxy_url.hpp"
