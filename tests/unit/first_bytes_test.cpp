// FirstBytes: what the local side already delivered is read without waiting (pipe, regular
// file), EOF is recorded once, and bytes past the limit make it incomplete.
#include "transport/first_bytes.hpp"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}
Bytes held(const hc::transport::FirstBytes& f) {
  return Bytes(f.bytes().begin(), f.bytes().end());
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    ::close(r);
    if (w >= 0) {
      ::close(w);
    }
  }
  void write(const std::string& s) const {
    BOOST_REQUIRE(::write(w, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  void close_writer() {
    ::close(w);
    w = -1;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(first_bytes)

BOOST_AUTO_TEST_CASE(empty_pipe_gives_nothing_without_waiting) {
  Pipe p;
  hc::transport::FirstBytes first(p.r);
  first.poll();  // would hang here if it waited
  BOOST_TEST(first.bytes().empty());
  BOOST_TEST(!first.local_ended());
  BOOST_TEST(first.complete());
}

BOOST_AUTO_TEST_CASE(pipe_bytes_then_eof) {
  Pipe p;
  hc::transport::FirstBytes first(p.r);
  p.write("GET / HTTP/1.0\r\n");
  first.poll();
  BOOST_TEST((held(first) == bytes_of("GET / HTTP/1.0\r\n")));
  BOOST_TEST(!first.local_ended());
  p.write("\r\n");
  p.close_writer();
  first.poll();
  BOOST_TEST((held(first) == bytes_of("GET / HTTP/1.0\r\n\r\n")));
  BOOST_TEST(first.local_ended());
  // The descriptor keeps its flags: still blocking for whoever reads it next.
  BOOST_TEST((::fcntl(p.r, F_GETFL) & O_NONBLOCK) == 0);
}

BOOST_AUTO_TEST_CASE(regular_file_is_read_up_to_the_limit) {
  std::FILE* file = std::tmpfile();
  BOOST_REQUIRE(file != nullptr);
  const std::string text(100, 'x');
  std::fputs(text.c_str(), file);
  std::fflush(file);
  std::rewind(file);
  hc::transport::FirstBytes first(::fileno(file), 60);
  first.poll();
  BOOST_TEST(first.bytes().size() == 60u);
  BOOST_TEST(!first.local_ended());
  std::fclose(file);
}

BOOST_AUTO_TEST_CASE(recorded_bytes_past_the_limit_make_it_incomplete) {
  hc::transport::FirstBytes first(-1, 8);
  first.poll();  // no descriptor: nothing to read
  const Bytes a = bytes_of("12345");
  first.record(a);
  BOOST_TEST(first.complete());
  BOOST_TEST((held(first) == a));
  first.record(bytes_of("6789"));
  BOOST_TEST(!first.complete());
}

BOOST_AUTO_TEST_SUITE_END()
