#include "proto/http_connect.hpp"
