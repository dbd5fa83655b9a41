// ChainError's message: hop, stage and reason; a refused request says what was asked for.
#include "chain/chain_error.hpp"

#include <system_error>

#include <boost/test/unit_test.hpp>

namespace {

hc::chain::ChainError error(hc::proto::Stage stage, std::error_code ec, std::string asked = {}) {
  hc::chain::ChainError e;
  e.hop = 1;
  e.hops = 2;
  e.where = "socks5h://a:1080";
  e.stage = stage;
  e.ec = ec;
  e.asked = std::move(asked);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chain_error)

BOOST_AUTO_TEST_CASE(refused_request_names_what_was_asked_for) {
  const auto refused = std::make_error_code(std::errc::connection_refused);
  const auto next_hop = error(hc::proto::Stage::request, refused, "hop 2 (127.0.0.1:21999)");
  BOOST_TEST(next_hop.message() ==
             "hop 1/2 socks5h://a:1080: could not reach hop 2 "
             "(127.0.0.1:21999): " +
                 refused.message());
  const auto target = error(hc::proto::Stage::request, refused, "the target example.org:22");
  BOOST_TEST(target.message().find(": could not reach the target example.org:22: ") !=
             std::string::npos);
  // Another request (UDP ASSOCIATE) keeps the stage's name.
  BOOST_TEST(error(hc::proto::Stage::request, refused).message().find(": request: ") !=
             std::string::npos);
  BOOST_TEST(error(hc::proto::Stage::auth, refused, "ignored").message().find(": auth: ") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
