#define BOOST_TEST_MODULE hopchain unit tests
#include <boost/test/unit_test.hpp>
