/// TlsStream over StreamAdapter: TLS inside TLS with half-close, verification failures with
/// OpenSSL's reason, a deadline that aborts a nested handshake, and compile_hops file errors.
/// In-process servers on 127.0.0.1 only; certificates are embedded (valid 2000 to 2100).
#include "transport/tls_stream.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "chain/hop.hpp"
#include "proto/proxy_url.hpp"
#include "transport/deadline.hpp"

using asio::awaitable;
using asio::use_awaitable;
using hc::nothrow;
using hc::tcp;
using hc::transport::TlsErrc;
using hc::transport::TlsStream;

namespace {

// A CA and a server certificate for DNS:inner.test and IP:127.0.0.1 that it signed.
constexpr const char* kCaPem = R"(-----BEGIN CERTIFICATE-----
MIIBdDCCARqgAwIBAgICEAAwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVaG9wY2hh
aW4gdW5pdCB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAw
WjAgMR4wHAYDVQQDDBVob3BjaGFpbiB1bml0IHRlc3QgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARRt+4iL2o3oWO0HforIBNAteqDI6DJxnxGx+vrL4KGbbwv
yHNTDBTFtdqnpoMNsOX728ouR30NY7RVWZGzmTrio0IwQDAPBgNVHRMBAf8EBTAD
AQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUDd6pOO0RN/nqotf+RyYYM+xM
QUowCgYIKoZIzj0EAwIDSAAwRQIgZBnd3A3hkaGhXMGQD2wf96Zt64XUfBy8NgcH
NkbvU/ICIQDbifDeIVEM9Ac10N53s8LUUIM0eAL6uLI7SNZCR/pLGA==
-----END CERTIFICATE-----
)";
constexpr const char* kCaKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0ScqZPDrP8rTCITs
WCZ+5bs47nv8PB02sMZamnPZENmhRANCAARRt+4iL2o3oWO0HforIBNAteqDI6DJ
xnxGx+vrL4KGbbwvyHNTDBTFtdqnpoMNsOX728ouR30NY7RVWZGzmTri
-----END PRIVATE KEY-----
)";
constexpr const char* kServerPem = R"(-----BEGIN CERTIFICATE-----
MIIBwjCCAWegAwIBAgICEAEwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVaG9wY2hh
aW4gdW5pdCB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAw
WjAkMSIwIAYDVQQDDBlob3BjaGFpbiB1bml0IHRlc3Qgc2VydmVyMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEds2UXXYa00lTij8lBSfun6tBcoQWv+cN58/ynzR4
9ZHAvVassCzS/ro5YUyvD4rgStbT9podpAaRqNhkOpta16OBijCBhzAJBgNVHRME
AjAAMBsGA1UdEQQUMBKCCmlubmVyLnRlc3SHBH8AAAEwHQYDVR0lBBYwFAYIKwYB
BQUHAwEGCCsGAQUFBwMCMB0GA1UdDgQWBBTyaQ9OcYrloxTIcS8QffhQOAXxLTAf
BgNVHSMEGDAWgBQN3qk47RE3+eqi1/5HJhgz7ExBSjAKBggqhkjOPQQDAgNJADBG
AiEA3yQpLRSku4QbyzHfbVd6hK76rx1PLBVWmZPLOCP97LECIQD3AANzvQrrS73k
rLYEKNPYFAs89DND3oCK0i1R+2emow==
-----END CERTIFICATE-----
)";
constexpr const char* kServerKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgr6CdrgpBU6aYwR1p
qJxr8xFsXpo2/IJ+X5GWBP+xVt+hRANCAAR2zZRddhrTSVOKPyUFJ+6fq0FyhBa/
5w3nz/KfNHj1kcC9VqywLNL+ujlhTK8PiuBK1tP2mh2kBpGo2GQ6m1rX
-----END PRIVATE KEY-----
)";

/// A file that exists for the test's lifetime.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/hc-tls-test.XXXXXX";
    const int fd = ::mkstemp(name);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<asio::ssl::context> server_context() {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(std::string_view(kServerPem)));
  ctx->use_private_key(asio::buffer(std::string_view(kServerKey)), asio::ssl::context::pem);
  return ctx;
}

std::unique_ptr<asio::ssl::context> client_context(const std::string& cafile) {
  hc::transport::TlsClientSettings settings;
  settings.cafile = cafile;
  auto ctx = hc::transport::make_client_context(settings);
  BOOST_TEST_REQUIRE(ctx.has_value(), (ctx ? std::string() : ctx.error()));
  return std::move(*ctx);
}

/// Runs `op` to completion on a fresh io_context, rethrowing what it threw.
void run(asio::io_context& io, awaitable<void> op) {
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) {
    std::rethrow_exception(failure);
  }
}

awaitable<std::unique_ptr<hc::transport::Stream>> connect(tcp::endpoint endpoint) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(endpoint, use_awaitable);
  co_return std::make_unique<hc::transport::TcpStream>(std::move(socket));
}

template <typename AsyncStream>
awaitable<std::string> read_to_eof(AsyncStream& stream, std::error_code& end) {
  std::string data;
  char buffer[4096];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), nothrow);
    data.append(buffer, n);
    if (ec) {
      end = ec;
      co_return data;
    }
  }
}

struct NestedServerLog {
  std::string received;
  std::error_code end;
};

/// Outer TLS, inner TLS inside it; reads the client's data up to its close_notify, then answers
/// on the half-closed session and closes.
awaitable<void> nested_server(tcp::acceptor& acceptor, asio::ssl::context& ctx,
                              NestedServerLog& log) {
  tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
  asio::ssl::stream<tcp::socket> outer(std::move(socket), ctx);
  co_await outer.async_handshake(asio::ssl::stream_base::server, use_awaitable);
  asio::ssl::stream<asio::ssl::stream<tcp::socket>&> inner(outer, ctx);
  co_await inner.async_handshake(asio::ssl::stream_base::server, use_awaitable);
  log.received = co_await read_to_eof(inner, log.end);
  const std::string reply = "answer after half-close";
  co_await asio::async_write(inner, asio::buffer(reply), use_awaitable);
  // The client's close_notify arrived, so these complete without waiting.
  co_await inner.async_shutdown(nothrow);
  co_await outer.async_shutdown(nothrow);
}

struct NestedClientLog {
  std::string reply;
  std::error_code end;
  std::string outer_describe;
};

awaitable<void> nested_client(tcp::endpoint endpoint, asio::ssl::context& ctx,
                              NestedClientLog& log) {
  const auto executor = co_await asio::this_coro::executor;
  auto outer = std::make_unique<TlsStream>(co_await connect(endpoint), ctx, executor);
  const auto r1 = co_await outer->handshake("127.0.0.1");
  BOOST_TEST_REQUIRE(!r1.ec, r1.ec.message() << ": " << r1.detail);
  log.outer_describe = outer->describe();
  TlsStream inner(std::move(outer), ctx, executor);
  const auto r2 = co_await inner.handshake("inner.test");
  BOOST_TEST_REQUIRE(!r2.ec, r2.ec.message() << ": " << r2.detail);
  const std::string hello = "hello through two TLS layers";
  auto [wec, written] =
      co_await inner.write_all({reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()});
  BOOST_TEST(!wec);
  BOOST_TEST(written == hello.size());
  const std::error_code shutdown_ec = co_await inner.shutdown_send();
  BOOST_TEST(!shutdown_ec);
  // Reading goes on after our close_notify.
  std::uint8_t buffer[4096];
  for (;;) {
    auto [ec, n] = co_await inner.read_some(buffer);
    log.reply.append(reinterpret_cast<const char*>(buffer), n);
    if (ec) {
      log.end = ec;
      break;
    }
  }
  inner.close();
}

awaitable<void> nested_both(tcp::acceptor& acceptor, asio::ssl::context& server_ctx,
                            asio::ssl::context& client_ctx, NestedServerLog& server_log,
                            NestedClientLog& client_log) {
  using namespace asio::experimental::awaitable_operators;
  co_await (nested_server(acceptor, server_ctx, server_log) &&
            nested_client(acceptor.local_endpoint(), client_ctx, client_log));
}

/// A server that completes TLS handshakes and then says nothing until the client goes away.
awaitable<void> handshake_then_wait(tcp::acceptor& acceptor, asio::ssl::context& ctx) {
  tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
  asio::ssl::stream<tcp::socket> outer(std::move(socket), ctx);
  auto [ec] = co_await outer.async_handshake(asio::ssl::stream_base::server, nothrow);
  if (ec) {
    co_return;  // the client rejected our certificate
  }
  std::error_code end;
  co_await read_to_eof(outer, end);
}

struct HandshakeLog {
  hc::transport::TlsHandshakeResult result;
  bool timed_out = false;
  std::chrono::steady_clock::duration took{};
};

/// Outer handshake to 127.0.0.1, then (if `nested`) an inner handshake that the server never
/// answers, under a 200 ms deadline on the bottom socket.
awaitable<void> client_handshake(tcp::endpoint endpoint, asio::ssl::context& ctx, std::string name,
                                 bool nested, HandshakeLog& log) {
  const auto executor = co_await asio::this_coro::executor;
  auto stream = std::make_unique<TlsStream>(co_await connect(endpoint), ctx, executor);
  TlsStream* session = stream.get();
  if (nested) {
    const auto outer = co_await stream->handshake("127.0.0.1");
    BOOST_TEST_REQUIRE(!outer.ec);
    stream = std::make_unique<TlsStream>(std::move(stream), ctx, executor);
    session = stream.get();
  }
  const auto start = std::chrono::steady_clock::now();
  auto result = co_await hc::transport::with_deadline(
      *session->bottom(), std::chrono::milliseconds(200), session->handshake(name));
  log.took = std::chrono::steady_clock::now() - start;
  log.timed_out = !result;
  if (result) {
    log.result = *result;
  }
  stream->close();
}

awaitable<void> failing_handshake(tcp::acceptor& acceptor, asio::ssl::context& server_ctx,
                                  asio::ssl::context& client_ctx, std::string name, bool nested,
                                  HandshakeLog& log) {
  using namespace asio::experimental::awaitable_operators;
  co_await (handshake_then_wait(acceptor, server_ctx) &&
            client_handshake(acceptor.local_endpoint(), client_ctx, name, nested, log));
}

HandshakeLog try_handshake(const std::string& cafile, const std::string& name,
                           bool nested = false) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto server_ctx = server_context();
  auto client_ctx = client_context(cafile);
  HandshakeLog log;
  run(io, failing_handshake(acceptor, *server_ctx, *client_ctx, name, nested, log));
  return log;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_stream)

BOOST_AUTO_TEST_CASE(tls_in_tls_with_half_close) {
  TempFile ca(kCaPem);
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto server_ctx = server_context();
  auto client_ctx = client_context(ca.path());
  NestedServerLog server_log;
  NestedClientLog client_log;
  run(io, nested_both(acceptor, *server_ctx, *client_ctx, server_log, client_log));

  BOOST_TEST(server_log.received == "hello through two TLS layers");
  BOOST_TEST(server_log.end == asio::error::eof);  // our close_notify, not a truncation
  BOOST_TEST(client_log.reply == "answer after half-close");
  BOOST_TEST(client_log.end == asio::error::eof);
  BOOST_TEST(client_log.outer_describe.find("TLSv1.3") != std::string::npos);
  BOOST_TEST(client_log.outer_describe.find("verified") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(name_and_address_must_match) {
  TempFile ca(kCaPem);
  BOOST_TEST(!try_handshake(ca.path(), "inner.test").result.ec);
  BOOST_TEST(!try_handshake(ca.path(), "127.0.0.1").result.ec);

  HandshakeLog wrong_name = try_handshake(ca.path(), "other.test");
  BOOST_TEST((wrong_name.result.ec == TlsErrc::certificate_verify_failed));
  BOOST_TEST(wrong_name.result.detail == "hostname mismatch");

  HandshakeLog wrong_ip = try_handshake(ca.path(), "127.0.0.2");
  BOOST_TEST((wrong_ip.result.ec == TlsErrc::certificate_verify_failed));
  BOOST_TEST(wrong_ip.result.detail == "IP address mismatch");

  // No partial wildcards, and a suffix is not a match.
  BOOST_TEST((try_handshake(ca.path(), "test").result.ec == TlsErrc::certificate_verify_failed));
}

BOOST_AUTO_TEST_CASE(unknown_ca) {
  // The system store does not know the test CA.
  HandshakeLog log = try_handshake("", "inner.test");
  BOOST_TEST((log.result.ec == TlsErrc::certificate_verify_failed));
  BOOST_TEST(log.result.detail == "unable to get local issuer certificate");
}

BOOST_AUTO_TEST_CASE(deadline_aborts_a_nested_handshake) {
  TempFile ca(kCaPem);
  // The server finishes the outer handshake, then never answers the inner ClientHello.
  HandshakeLog log = try_handshake(ca.path(), "inner.test", true);
  BOOST_TEST(log.timed_out);
  BOOST_TEST(log.took < std::chrono::seconds(2));
}

BOOST_AUTO_TEST_CASE(contexts_report_file_errors_by_hop) {
  TempFile ca(kCaPem);
  TempFile cert(kServerPem);
  TempFile key(kServerKey);
  TempFile other_key(kCaKey);
  TempFile not_pem("this is not a certificate\n");
  auto hops = [](std::vector<std::string> urls) {
    std::vector<hc::proto::HopSpec> out;
    for (const auto& url : urls) {
      hc::proto::HopSpec hop;
      BOOST_TEST_REQUIRE(!hc::proto::parse_proxy_url(url, hop), url);
      out.push_back(hop);
    }
    return out;
  };

  using hc::chain::compile_hops;
  {
    const auto list = hops({"socks5://a", "https://b?cafile=" + ca.path(),
                            "socks5h+tls://c?cafile=" + ca.path(), "https://d"});
    const auto compiled = compile_hops(list, "");
    BOOST_TEST_REQUIRE(compiled.has_value());
    const auto& h = *compiled;
    BOOST_TEST_REQUIRE(h.size() == 4u);
    BOOST_TEST(h[0]->tls == nullptr);
    BOOST_TEST(h[1]->tls != nullptr);
    BOOST_TEST(h[1]->tls == h[2]->tls);  // same settings, one context
    BOOST_TEST(h[3]->tls != nullptr);    // the system store
    BOOST_TEST(h[3]->tls != h[1]->tls);
    BOOST_TEST(h[1]->redacted == list[1].redacted());
  }
  {
    const auto list = hops({"https://a", "https://b?cafile=/nonexistent/ca.pem"});
    const auto compiled = compile_hops(list, ca.path());
    BOOST_TEST_REQUIRE(!compiled.has_value());
    BOOST_TEST(compiled.error() == "hop 2/2 " + list[1].redacted() +
                                       ": cannot read CA file /nonexistent/ca.pem: No such file "
                                       "or directory");
  }
  {
    // --cafile is the default for hops without ?cafile=.
    const auto compiled = compile_hops(hops({"https://a"}), "/nonexistent/default.pem");
    BOOST_TEST_REQUIRE(!compiled.has_value());
    BOOST_TEST(compiled.error().find("hop 1/1 ") == 0u, compiled.error());
    BOOST_TEST(compiled.error().find("/nonexistent/default.pem") != std::string::npos);
  }
  {
    // An insecure hop does not use a CA file, so a missing one is no error.
    BOOST_TEST(
        compile_hops(hops({"https://a?insecure=1"}), "/nonexistent/default.pem").has_value());
  }
  {
    const auto compiled = compile_hops(hops({"https://a?cafile=" + not_pem.path()}), "");
    BOOST_TEST_REQUIRE(!compiled.has_value());
    BOOST_TEST(compiled.error().find("cannot load CA file " + not_pem.path()) != std::string::npos);
  }
  {
    BOOST_TEST(
        compile_hops(hops({"https://a?cert=" + cert.path() + "&key=" + key.path()}), ca.path())
            .has_value());
  }
  {
    const auto compiled = compile_hops(
        hops({"socks5+tls://a", "https://b?cert=" + cert.path() + "&key=/nonexistent/me.key"}),
        ca.path());
    BOOST_TEST_REQUIRE(!compiled.has_value());
    BOOST_TEST(compiled.error().find("hop 2/2 ") == 0u, compiled.error());
    BOOST_TEST(compiled.error().find(
                   ": cannot read client key /nonexistent/me.key: No such file or directory") !=
               std::string::npos);
  }
  {
    const auto compiled = compile_hops(
        hops({"https://a?cert=" + cert.path() + "&key=" + other_key.path()}), ca.path());
    BOOST_TEST_REQUIRE(!compiled.has_value());
    BOOST_TEST(compiled.error().find("cannot load client key") != std::string::npos,
               compiled.error());
  }
}

BOOST_AUTO_TEST_SUITE_END()
