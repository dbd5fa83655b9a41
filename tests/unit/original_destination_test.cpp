#include "capture/original_destination.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

namespace {

asio::ip::tcp::endpoint at(const char* address, unsigned short port) {
  return {asio::ip::make_address(address), port};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(original_destination)

BOOST_AUTO_TEST_CASE(a_connection_to_the_listener_itself_is_a_loop) {
  BOOST_TEST(hc::capture::is_own_listener(at("127.0.0.1", 1080), at("127.0.0.1", 1080)));
  BOOST_TEST(hc::capture::is_own_listener(at("10.0.0.5", 1080), at("::ffff:10.0.0.5", 1080)));
}

BOOST_AUTO_TEST_CASE(another_address_or_port_is_not) {
  BOOST_TEST(!hc::capture::is_own_listener(at("93.184.216.34", 1080), at("127.0.0.1", 1080)));
  BOOST_TEST(!hc::capture::is_own_listener(at("127.0.0.1", 1081), at("127.0.0.1", 1080)));
}

BOOST_AUTO_TEST_CASE(a_socket_that_is_not_connected_has_no_original_destination) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(!hc::capture::original_destination(fd));
  ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
