#define BOOST_TEST_MODULE hopchain unit tests
#include <boost/test/unit_test.hpp>

#include "dns/resolver.hpp"

namespace {

/// c-ares set up once for the whole module, as run() does, before any test starts a thread or
/// makes a Resolver (resolver, UDP association and sender tests).
struct DnsLibrary {
  hc::dns::Library library;
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(DnsLibrary);
