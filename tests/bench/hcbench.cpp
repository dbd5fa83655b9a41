// hcbench: the small, fast helper behind the hopchain benchmark scripts (tests/bench/*.sh).
// Not part of the CMake build: common.sh compiles it with g++ directly.
//
//   hcbench serve --port P [--bind A] --mode sink|source|echo [--bytes N]
//       sink:   read until EOF, then answer the byte count (8 bytes, little endian) and close
//       source: write N bytes, FIN, read until EOF, close
//       echo:   echo until EOF, FIN (thread per connection)
//   hcbench nc HOST PORT            minimal netcat (stdin->socket, socket->stdout, half-close)
//   hcbench connect-idle HOST PORT  connect, then sit idle until killed (startup floor)
//   hcbench first-byte --runs N [--payload S] [--timeout S] [--expect any] -- CMD...
//       per run: payload already waiting on CMD's stdin; time from fork to the first byte on
//       CMD's stdout; checks the whole payload comes back, then closes stdin and reaps CMD
//   hcbench bulk-stdio --dir down|up --bytes N [--cgroup DIR] [--timeout S] -- CMD...
//       down: read N bytes from CMD's stdout (the target is a source server)
//       up:   write N bytes to CMD's stdin, then expect the sink's 8-byte count on stdout
//   hcbench bulk-tcp --connect HOST:PORT --dir down|up --bytes N [--cgroup DIR] [--timeout S]
//       the same through a local forward; CPU comes from the cgroup the forwarder runs in
//   hcbench hold --connect HOST:PORT --count N [--inflight K] [--timeout S] [--hold S]
//       open N tunnels (each echoes one byte to prove it is up), report, then idle
//   hcbench load --connect HOST:PORT --count N --bytes M [--window W] [--inflight K] [--timeout S]
//                [--seed X]
//       N connections, all connected before any data moves; each then sends M bytes of its own
//       pseudo-random pattern and checks, byte by byte, that the same M bytes come back (echo
//       target), then closes. Counts connections that completed, were corrupted or were lost.
//       At most W bytes (default 64K) per connection are on their way at any time: proxies that
//       copy with blocking writes (microsocks) deadlock against an echo server once both
//       directions' buffers fill, which thousands of connections under TCP memory pressure do.
//   hcbench cps --connect HOST:PORT [--seconds S] [--threads T]
//       connect, echo one byte, close, in a loop: connections per second
//   hcbench startup --port P --runs N [--timeout S] -- CMD...
//       listen on 127.0.0.1:P (CMD's first hop); time from fork to accept()
//   hcbench cgexec DIR -- CMD...    put itself in cgroup DIR, then exec CMD
//
// Results are printed as `key=value` lines for the scripts to parse.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "hcbench: %s\n", msg.c_str());
  std::exit(2);
}
[[noreturn]] void die_errno(const std::string& msg) {
  die(msg + ": " + std::strerror(errno));
}

double mono() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double real_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void raise_nofile() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// --- options -----------------------------------------------------------------------------------

struct Args {
  std::map<std::string, std::string> opt;
  std::vector<std::string> pos;
  std::vector<std::string> cmd;  // after --
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opt.find(k);
    return it == opt.end() ? def : it->second;
  }
  std::string need(const std::string& k) const {
    auto it = opt.find(k);
    if (it == opt.end())
      die("missing --" + k);
    return it->second;
  }
};

Args parse(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--") {
      for (++i; i < argc; ++i)
        a.cmd.emplace_back(argv[i]);
      break;
    }
    if (s.rfind("--", 0) == 0) {
      auto eq = s.find('=');
      if (eq != std::string::npos) {
        a.opt[s.substr(2, eq - 2)] = s.substr(eq + 1);
      } else {
        if (i + 1 >= argc)
          die("option " + s + " needs a value");
        a.opt[s.substr(2)] = argv[++i];
      }
    } else {
      a.pos.push_back(s);
    }
  }
  return a;
}

std::uint64_t parse_size(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string suf = end ? end : "";
  std::uint64_t mul = 1;
  if (suf == "K" || suf == "KiB")
    mul = 1ULL << 10;
  else if (suf == "M" || suf == "MiB")
    mul = 1ULL << 20;
  else if (suf == "G" || suf == "GiB")
    mul = 1ULL << 30;
  else if (!suf.empty())
    die("bad size " + s);
  return static_cast<std::uint64_t>(v * static_cast<double>(mul));
}

sockaddr_in make_addr(const std::string& host, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
    die("not an IPv4 address: " + host);
  return sa;
}

sockaddr_in parse_hostport(const std::string& hp) {
  auto c = hp.rfind(':');
  if (c == std::string::npos)
    die("expected HOST:PORT, got " + hp);
  return make_addr(hp.substr(0, c), std::stoi(hp.substr(c + 1)));
}

int listen_on(const std::string& bind, int port, int backlog = 4096) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die_errno("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = make_addr(bind, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    die_errno("bind");
  if (::listen(fd, backlog) != 0)
    die_errno("listen");
  return fd;
}

int connect_to(const sockaddr_in& sa) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  while (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno == EINTR)
      continue;
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

bool write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// --- CPU accounting ------------------------------------------------------------------------------

struct Cpu {
  double user = 0, sys = 0;
  bool ok = false;
};

// cgroup v1 cpuacct (cpuacct.usage_user / usage_sys, ns) or v2 (cpu.stat, usec).
Cpu read_cgroup(const std::string& dir) {
  Cpu c;
  if (dir.empty())
    return c;
  // v1: cpuacct.usage is exact (ns of run time); the user/sys split is sampled, so scale it to
  // the exact total.
  std::ifstream t(dir + "/cpuacct.usage"), u(dir + "/cpuacct.usage_user"),
      s(dir + "/cpuacct.usage_sys");
  if (t && u && s) {
    std::uint64_t total = 0, a = 0, b = 0;
    t >> total;
    u >> a;
    s >> b;
    double tot = static_cast<double>(total) * 1e-9;
    double frac = a + b > 0 ? static_cast<double>(a) / static_cast<double>(a + b) : 0.0;
    c.user = tot * frac;
    c.sys = tot - c.user;
    c.ok = true;
    return c;
  }
  std::ifstream st(dir + "/cpu.stat");
  std::string key;
  std::uint64_t v;
  while (st >> key >> v) {
    if (key == "user_usec")
      c.user = static_cast<double>(v) * 1e-6, c.ok = true;
    if (key == "system_usec")
      c.sys = static_cast<double>(v) * 1e-6;
  }
  return c;
}

void join_cgroup(const std::string& dir) {
  if (dir.empty())
    return;
  std::string path = dir + "/cgroup.procs";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "hcbench: cannot open %s: %s\n", path.c_str(), std::strerror(errno));
    _exit(126);
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (::write(fd, pid.data(), pid.size()) < 0) {
    std::fprintf(stderr, "hcbench: cannot join cgroup %s: %s\n", dir.c_str(), std::strerror(errno));
    _exit(126);
  }
  ::close(fd);
}

// --- child processes -----------------------------------------------------------------------------

[[noreturn]] void exec_cmd(const std::vector<std::string>& cmd) {
  std::vector<char*> argv;
  for (auto& s : cmd)
    argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "hcbench: exec %s: %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

// fork + exec CMD in its own process group with the given stdin/stdout (-1: /dev/null).
pid_t spawn(const std::vector<std::string>& cmd, int in_fd, int out_fd, const std::string& cgroup,
            bool quiet_stderr = false) {
  if (cmd.empty())
    die("no command after --");
  pid_t pid = fork();
  if (pid < 0)
    die_errno("fork");
  if (pid == 0) {
    setpgid(0, 0);
    join_cgroup(cgroup);
    int devnull = ::open("/dev/null", O_RDWR);
    dup2(in_fd >= 0 ? in_fd : devnull, 0);
    dup2(out_fd >= 0 ? out_fd : devnull, 1);
    if (quiet_stderr)
      dup2(devnull, 2);
    exec_cmd(cmd);
  }
  setpgid(pid, pid);
  return pid;
}

// Waits for PID at most SECS seconds, then kills its process group. Returns the wait status.
int reap(pid_t pid, double secs, rusage* ru = nullptr) {
  double end = mono() + secs;
  int status = 0;
  rusage dummy;
  for (;;) {
    pid_t r = wait4(pid, &status, WNOHANG, ru ? ru : &dummy);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR)
      return -1;
    if (mono() > end) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (wait4(pid, &status, 0, ru ? ru : &dummy) < 0 && errno == EINTR) {
      }
      return -2;
    }
    usleep(500);
  }
  kill(-pid, SIGKILL);  // leftovers in its group (proxychains' children, ...)
  return status;
}

double tv(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
}

// --- statistics ---------------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  if (p == 50) {
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

void print_summary(const std::vector<double>& ms, int runs, const char* unit = "ms") {
  std::printf(
      "result runs=%d ok=%zu median_%s=%.3f p10_%s=%.3f p90_%s=%.3f min_%s=%.3f max_%s=%.3f\n",
      runs, ms.size(), unit, percentile(ms, 50), unit, percentile(ms, 10), unit, percentile(ms, 90),
      unit, ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()), unit,
      ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()));
  std::fflush(stdout);
}

// --- serve ---------------------------------------------------------------------------------------

struct ServeConf {
  std::string mode;
  std::uint64_t bytes = 0;
};

void* serve_conn(void* arg) {
  auto* p = static_cast<std::pair<int, ServeConf*>*>(arg);
  int fd = p->first;
  ServeConf conf = *p->second;
  delete p;
  if (conf.mode == "sink") {
    std::vector<char> buf(256 * 1024);
    std::uint64_t total = 0;
    for (;;) {
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r > 0) {
        total += static_cast<std::uint64_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      break;
    }
    std::uint64_t le = total;  // x86-64: little endian already
    write_all(fd, &le, sizeof le);
    shutdown(fd, SHUT_WR);
  } else if (conf.mode == "source") {
    std::vector<char> buf(1 << 20);
    for (std::size_t i = 0; i < buf.size(); ++i)
      buf[i] = static_cast<char>('a' + i % 26);
    std::uint64_t left = conf.bytes;
    bool ok = true;
    while (left > 0 && ok) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      ok = write_all(fd, buf.data(), n);
      left -= n;
    }
    shutdown(fd, SHUT_WR);
    char tmp[4096];
    while (true) {
      ssize_t r = ::read(fd, tmp, sizeof tmp);
      if (r > 0 || (r < 0 && errno == EINTR))
        continue;
      break;
    }
  } else {  // echo
    char buf[16384];
    for (;;) {
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        if (!write_all(fd, buf, static_cast<std::size_t>(r)))
          break;
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        shutdown(fd, SHUT_WR);
      break;
    }
  }
  ::close(fd);
  return nullptr;
}

int cmd_serve(const Args& a) {
  raise_nofile();
  signal(SIGPIPE, SIG_IGN);
  static ServeConf conf;
  conf.mode = a.need("mode");
  if (conf.mode != "sink" && conf.mode != "source" && conf.mode != "echo")
    die("bad --mode");
  conf.bytes = parse_size(a.get("bytes", "0"));
  int lfd = listen_on(a.get("bind", "127.0.0.1"), std::stoi(a.need("port")));
  std::printf("serving %s on port %s\n", conf.mode.c_str(), a.need("port").c_str());
  std::fflush(stdout);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE) {
        usleep(10000);
        continue;
      }
      die_errno("accept");
    }
    pthread_t t;
    auto* arg = new std::pair<int, ServeConf*>(fd, &conf);
    if (pthread_create(&t, &attr, serve_conn, arg) != 0) {
      delete arg;
      ::close(fd);
    }
  }
}

// --- nc / connect-idle ---------------------------------------------------------------------------

int cmd_nc(const Args& a) {
  if (a.pos.size() != 2)
    die("usage: hcbench nc HOST PORT");
  signal(SIGPIPE, SIG_IGN);
  int fd = connect_to(make_addr(a.pos[0], std::stoi(a.pos[1])));
  if (fd < 0)
    die_errno("connect");
  bool in_open = true, sock_open = true;
  char buf[65536];
  while (in_open || sock_open) {
    pollfd p[2];
    int n = 0;
    int ii = -1, si = -1;
    if (in_open)
      p[ii = n++] = {0, POLLIN, 0};
    if (sock_open)
      p[si = n++] = {fd, POLLIN, 0};
    if (poll(p, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    if (ii >= 0 && p[ii].revents) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r > 0) {
        if (!write_all(fd, buf, static_cast<std::size_t>(r)))
          return 1;
      } else if (r == 0 || errno != EINTR) {
        in_open = false;
        shutdown(fd, SHUT_WR);
      }
    }
    if (si >= 0 && p[si].revents) {
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        if (!write_all(1, buf, static_cast<std::size_t>(r)))
          return 1;
      } else if (r == 0 || errno != EINTR) {
        sock_open = false;
        ::close(1);
        if (r < 0)
          return 1;
      }
    }
  }
  return 0;
}

int cmd_connect_idle(const Args& a) {
  if (a.pos.size() != 2)
    die("usage: hcbench connect-idle HOST PORT");
  int fd = connect_to(make_addr(a.pos[0], std::stoi(a.pos[1])));
  if (fd < 0)
    die_errno("connect");
  for (;;)
    pause();
}

// --- first-byte ----------------------------------------------------------------------------------

int cmd_first_byte(const Args& a) {
  signal(SIGPIPE, SIG_IGN);
  int runs = std::stoi(a.get("runs", "21"));
  std::string payload = a.get("payload", "hopchain-bench-ping\n");
  double timeout = std::stod(a.get("timeout", "10"));
  double gap = std::stod(a.get("gap-ms", "20")) * 1e-3;
  // --expect any: the server speaks first (a banner); any bytes back count, not only the echo
  const bool any = a.get("expect", "echo") == "any";
  std::vector<double> ms;
  int failed = 0;
  for (int run = 0; run < runs; ++run) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
      die_errno("pipe");
    if (!write_all(in[1], payload.data(), payload.size()))
      die_errno("write payload");
    double t0 = mono();
    pid_t pid = spawn(a.cmd, in[0], out[1], "");
    ::close(in[0]);
    ::close(out[1]);
    std::string got;
    double t1 = -1;
    double end = t0 + timeout;
    char buf[4096];
    while (got.size() < payload.size()) {
      int left_ms = static_cast<int>((end - mono()) * 1000);
      if (left_ms <= 0)
        break;
      pollfd p{out[0], POLLIN, 0};
      int pr = poll(&p, 1, left_ms);
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr <= 0)
        break;
      ssize_t r = ::read(out[0], buf, sizeof buf);
      if (r <= 0)
        break;
      if (t1 < 0)
        t1 = mono();
      got.append(buf, static_cast<std::size_t>(r));
    }
    bool ok = t1 >= 0 && (any || got == payload);
    ::close(in[1]);
    // drain to EOF (bounded) so the command can finish cleanly, then reap it
    double drain_end = mono() + 5;
    while (mono() < drain_end) {
      pollfd p{out[0], POLLIN, 0};
      int pr = poll(&p, 1, 100);
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr == 0)
        continue;
      if (pr < 0 || ::read(out[0], buf, sizeof buf) <= 0)
        break;
    }
    ::close(out[0]);
    reap(pid, 5);
    if (ok) {
      ms.push_back((t1 - t0) * 1000);
      std::printf("sample run=%d ms=%.3f\n", run, (t1 - t0) * 1000);
    } else {
      ++failed;
      std::printf("sample run=%d failed got=%zu/%zu bytes\n", run, got.size(), payload.size());
    }
    std::fflush(stdout);
    usleep(static_cast<useconds_t>(gap * 1e6));
  }
  print_summary(ms, runs);
  return failed ? 1 : 0;
}

// --- bulk ----------------------------------------------------------------------------------------

// CPU of this helper itself (the other end of the client's pipes or socket): with splice, part
// of the work moves here (the writer of a pipe whose pages were spliced away allocates new ones).
double self_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

void print_bulk(bool ok, std::uint64_t bytes, double secs, const Cpu& cpu, const char* src,
                const std::string& note) {
  double mbps = secs > 0 ? static_cast<double>(bytes) / secs / 1e6 : 0;
  double gib = static_cast<double>(bytes) / static_cast<double>(1ULL << 30);
  double per_gib = gib > 0 ? (cpu.user + cpu.sys) / gib : 0;
  double self = self_cpu();
  std::printf(
      "result ok=%d bytes=%llu secs=%.3f mbps=%.1f user=%.3f sys=%.3f cpu=%.3f "
      "cpu_per_gib=%.3f cpu_src=%s self_cpu=%.3f self_per_gib=%.3f%s%s\n",
      ok ? 1 : 0, static_cast<unsigned long long>(bytes), secs, mbps, cpu.user, cpu.sys,
      cpu.user + cpu.sys, per_gib, src, self, gib > 0 ? self / gib : 0,
      note.empty() ? "" : " note=", note.c_str());
  std::fflush(stdout);
}

int cmd_bulk_stdio(const Args& a) {
  signal(SIGPIPE, SIG_IGN);
  std::string dir = a.need("dir");
  std::uint64_t bytes = parse_size(a.need("bytes"));
  std::string cg = a.get("cgroup");
  double timeout = std::stod(a.get("timeout", "300"));
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
    die_errno("pipe");
  Cpu c0 = read_cgroup(cg);
  double t0 = mono();
  pid_t pid = spawn(a.cmd, in[0], out[1], cg);
  ::close(in[0]);
  ::close(out[1]);
  double end = t0 + timeout;
  std::vector<char> buf(1 << 20);
  for (std::size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<char>('A' + i % 26);
  std::uint64_t moved = 0;
  bool ok = false;
  std::string note;
  double t1 = 0;
  if (dir == "down") {
    for (;;) {
      int left_ms = static_cast<int>((end - mono()) * 1000);
      if (left_ms <= 0) {
        note = "timeout";
        break;
      }
      pollfd p{out[0], POLLIN, 0};
      int pr = poll(&p, 1, std::min(left_ms, 1000));
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr == 0)
        continue;
      ssize_t r = ::read(out[0], buf.data(), buf.size());
      if (r > 0) {
        moved += static_cast<std::uint64_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      break;
    }
    t1 = mono();
    ok = moved == bytes;
    if (!ok && note.empty())
      note = "short";
    ::close(in[1]);
  } else if (dir == "up") {
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    std::uint64_t left = bytes;
    while (left > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      ssize_t w = ::write(in[1], buf.data(), n);
      if (w > 0) {
        left -= static_cast<std::uint64_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN) {
        int left_ms = static_cast<int>((end - mono()) * 1000);
        if (left_ms <= 0) {
          note = "timeout";
          break;
        }
        pollfd p{in[1], POLLOUT, 0};
        poll(&p, 1, std::min(left_ms, 1000));
        continue;
      }
      note = "write-failed";
      break;
    }
    moved = bytes - left;
    ::close(in[1]);
    std::string reply;
    while (note.empty()) {
      int left_ms = static_cast<int>((end - mono()) * 1000);
      if (left_ms <= 0) {
        note = "timeout";
        break;
      }
      pollfd p{out[0], POLLIN, 0};
      int pr = poll(&p, 1, std::min(left_ms, 1000));
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr == 0)
        continue;
      ssize_t r = ::read(out[0], buf.data(), 64);
      if (r > 0) {
        reply.append(buf.data(), static_cast<std::size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      break;
    }
    t1 = mono();
    std::uint64_t count = 0;
    if (reply.size() == 8)
      std::memcpy(&count, reply.data(), 8);
    ok = note.empty() && reply.size() == 8 && count == bytes;
    if (!ok && note.empty())
      note = "sink-count-" + std::to_string(count);
  } else {
    die("--dir must be down or up");
  }
  ::close(out[0]);
  rusage ru{};
  int st = reap(pid, 30, &ru);
  Cpu c1 = read_cgroup(cg);
  Cpu cpu;
  const char* src = "rusage";
  if (c0.ok && c1.ok) {
    cpu.user = c1.user - c0.user;
    cpu.sys = c1.sys - c0.sys;
    src = "cgroup";
  } else {
    cpu.user = tv(ru.ru_utime);
    cpu.sys = tv(ru.ru_stime);
  }
  if (st == -2 && note.empty())
    note = "killed-after-transfer";
  print_bulk(ok, moved, t1 - t0, cpu, src, note);
  std::printf("rusage user=%.3f sys=%.3f\n", tv(ru.ru_utime), tv(ru.ru_stime));
  return ok ? 0 : 1;
}

int cmd_bulk_tcp(const Args& a) {
  signal(SIGPIPE, SIG_IGN);
  std::string dir = a.need("dir");
  std::uint64_t bytes = parse_size(a.need("bytes"));
  std::string cg = a.get("cgroup");
  double timeout = std::stod(a.get("timeout", "300"));
  sockaddr_in sa = parse_hostport(a.need("connect"));
  std::vector<char> buf(1 << 20);
  for (std::size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<char>('A' + i % 26);
  Cpu c0 = read_cgroup(cg);
  double t0 = mono();
  int fd = connect_to(sa);
  if (fd < 0)
    die_errno("connect");
  timeval tmo{static_cast<time_t>(timeout), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
  std::uint64_t moved = 0;
  bool ok = false;
  std::string note;
  if (dir == "down") {
    for (;;) {
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r > 0) {
        moved += static_cast<std::uint64_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        note = std::string("read-") + std::strerror(errno);
      break;
    }
    ok = moved == bytes;
  } else if (dir == "up") {
    std::uint64_t left = bytes;
    while (left > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      if (!write_all(fd, buf.data(), n)) {
        note = std::string("write-") + std::strerror(errno);
        break;
      }
      left -= n;
    }
    moved = bytes - left;
    shutdown(fd, SHUT_WR);
    std::string reply;
    for (;;) {
      ssize_t r = ::read(fd, buf.data(), 64);
      if (r > 0) {
        reply.append(buf.data(), static_cast<std::size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR)
        continue;
      break;
    }
    std::uint64_t count = 0;
    if (reply.size() == 8)
      std::memcpy(&count, reply.data(), 8);
    ok = note.empty() && reply.size() == 8 && count == bytes;
    if (!ok && note.empty())
      note = "sink-count-" + std::to_string(count);
  } else {
    die("--dir must be down or up");
  }
  double t1 = mono();
  ::close(fd);
  usleep(50000);  // let the forwarder finish closing its side
  Cpu c1 = read_cgroup(cg);
  Cpu cpu;
  if (c0.ok && c1.ok) {
    cpu.user = c1.user - c0.user;
    cpu.sys = c1.sys - c0.sys;
  }
  if (!ok && note.empty())
    note = "short";
  print_bulk(ok, moved, t1 - t0, cpu, c0.ok ? "cgroup" : "none", note);
  return ok ? 0 : 1;
}

// --- hold (idle tunnels) -------------------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
  g_stop = 1;
}

int cmd_hold(const Args& a) {
  raise_nofile();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  sockaddr_in sa = parse_hostport(a.need("connect"));
  int count = std::stoi(a.need("count"));
  int inflight_max = std::stoi(a.get("inflight", "128"));
  double timeout = std::stod(a.get("timeout", "120"));
  double hold = std::stod(a.get("hold", "3600"));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  enum State : char { connecting, waiting, up, dead };
  std::vector<State> state;  // indexed by fd
  std::vector<int> fds;
  int started = 0, established = 0, failed = 0, inflight = 0;
  std::string first_error;
  double t0 = mono(), end = t0 + timeout;
  auto fail_fd = [&](int fd, const char* why) {
    if (first_error.empty())
      first_error = why;
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    state[static_cast<std::size_t>(fd)] = dead;
    ++failed;
    --inflight;
  };
  std::vector<epoll_event> evs(1024);
  while (established + failed < count && mono() < end && !g_stop) {
    while (inflight < inflight_max && started < count) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        if (first_error.empty())
          first_error = std::string("socket: ") + std::strerror(errno);
        ++started;
        ++failed;
        continue;
      }
      if (static_cast<std::size_t>(fd) >= state.size())
        state.resize(static_cast<std::size_t>(fd) + 1024, dead);
      ++started;
      ++inflight;
      int r = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      state[static_cast<std::size_t>(fd)] = connecting;
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.fd = fd;
      if (r != 0 && errno != EINPROGRESS) {
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        fail_fd(fd, "connect failed");
        continue;
      }
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    for (int i = 0; i < n; ++i) {
      int fd = evs[static_cast<std::size_t>(i)].data.fd;
      State& s = state[static_cast<std::size_t>(fd)];
      if (s == connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fail_fd(fd, "connect error");
          continue;
        }
        char x = 'x';
        if (::write(fd, &x, 1) != 1) {
          fail_fd(fd, "write failed");
          continue;
        }
        s = waiting;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      } else if (s == waiting) {
        char x;
        ssize_t r = ::read(fd, &x, 1);
        if (r == 1) {
          s = up;
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          fds.push_back(fd);
          ++established;
          --inflight;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          fail_fd(fd, r == 0 ? "closed before echo" : "read error");
        }
      }
    }
  }
  double secs = mono() - t0;
  std::printf("result opened=%d failed=%d pending=%d secs=%.3f rate=%.1f first_error=%s\n",
              established, failed, count - established - failed, secs,
              secs > 0 ? established / secs : 0,
              first_error.empty() ? "none" : ("'" + first_error + "'").c_str());
  std::fflush(stdout);
  double hold_end = mono() + hold;
  while (!g_stop && mono() < hold_end)
    usleep(100000);
  // count tunnels that are still open (a proxy may have dropped idle ones)
  int alive = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 0)
      ++alive;
  }
  std::printf("final alive=%d\n", alive);
  return 0;
}

// --- load (checked concurrent echo) --------------------------------------------------------------

// Byte k of connection i's pattern: 8 bytes per splitmix64 step of (seed, i, k / 8), so any
// offset can be regenerated for checking without keeping what was sent.
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void fill_pattern(std::uint64_t seed, std::uint64_t conn, std::uint64_t offset, char* out,
                  std::size_t n) {
  std::uint64_t block = offset / 8, word = 0;
  std::size_t skip = static_cast<std::size_t>(offset % 8);
  const std::uint64_t base = seed ^ (conn << 40);
  for (std::size_t i = 0; i < n;) {
    word = splitmix(base + block++);
    for (std::size_t b = skip; b < 8 && i < n; ++b)
      out[i++] = static_cast<char>(word >> (8 * b));
    skip = 0;
  }
}

int cmd_load(const Args& a) {
  raise_nofile();
  signal(SIGPIPE, SIG_IGN);
  sockaddr_in sa = parse_hostport(a.need("connect"));
  const int count = std::stoi(a.need("count"));
  const std::uint64_t bytes = parse_size(a.need("bytes"));
  const int inflight_max = std::stoi(a.get("inflight", "256"));
  const std::uint64_t window = std::max<std::uint64_t>(1, parse_size(a.get("window", "64K")));
  const double timeout = std::stod(a.get("timeout", "120"));
  const std::uint64_t seed = std::stoull(a.get("seed", "12345"));
  enum State : char { idle, connecting, connected, running, done, corrupt, failed };
  struct Conn {
    int fd = -1;
    State state = idle;
    std::uint64_t sent = 0, received = 0;
  };
  std::vector<Conn> conns(static_cast<std::size_t>(count));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::string first_error;
  auto note_error = [&](const std::string& e) {
    if (first_error.empty())
      first_error = e;
  };
  auto finish = [&](Conn& c, State s) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.state = s;
  };
  auto watch = [&](Conn& c, std::size_t idx, std::uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = idx;
    epoll_ctl(ep, op, c.fd, &ev);
  };
  std::vector<epoll_event> evs(1024);
  std::vector<char> buf(256 * 1024), want(256 * 1024);
  const double t0 = mono(), end = t0 + timeout;

  // Phase 1: every connection up (at most `inflight` handshakes at a time).
  int started = 0, n_connected = 0, connect_failed = 0, inflight = 0;
  while (n_connected + connect_failed < count && mono() < end) {
    while (inflight < inflight_max && started < count) {
      Conn& c = conns[static_cast<std::size_t>(started)];
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0) {
        note_error(std::string("socket: ") + std::strerror(errno));
        c.state = failed;
        ++connect_failed;
        ++started;
        continue;
      }
      int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      if (r != 0 && errno != EINPROGRESS) {
        note_error(std::string("connect: ") + std::strerror(errno));
        ::close(c.fd);
        c.state = failed;
        ++connect_failed;
        ++started;
        continue;
      }
      c.state = connecting;
      watch(c, static_cast<std::size_t>(started), EPOLLOUT, EPOLL_CTL_ADD);
      ++started;
      ++inflight;
    }
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[evs[static_cast<std::size_t>(i)].data.u64];
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      --inflight;
      if (err != 0) {
        note_error(std::string("connect: ") + std::strerror(err));
        finish(c, failed);
        ++connect_failed;
        continue;
      }
      c.state = connected;
      watch(c, static_cast<std::size_t>(&c - conns.data()), 0, EPOLL_CTL_MOD);
      ++n_connected;
    }
  }
  const double connect_secs = mono() - t0;

  // Phase 2: every connected one sends its pattern and checks the echo, all at once.
  int active = 0;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (conns[i].state == connected) {
      conns[i].state = running;
      watch(conns[i], i, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
      ++active;
    }
  }
  const int peak = active;
  while (active > 0 && mono() < end) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    for (int i = 0; i < n; ++i) {
      const std::size_t idx = evs[static_cast<std::size_t>(i)].data.u64;
      Conn& c = conns[idx];
      const std::uint32_t e = evs[static_cast<std::size_t>(i)].events;
      if (c.state != running)
        continue;
      const std::uint64_t room = window - std::min(window, c.sent - c.received);
      if ((e & EPOLLOUT) && c.sent < bytes && room > 0) {
        const auto chunk = static_cast<std::size_t>(
            std::min<std::uint64_t>({bytes - c.sent, room, std::uint64_t{65536}}));
        fill_pattern(seed, idx, c.sent, buf.data(), chunk);
        ssize_t w = ::write(c.fd, buf.data(), chunk);
        if (w > 0) {
          c.sent += static_cast<std::uint64_t>(w);
          if (c.sent == bytes || c.sent - c.received >= window)
            watch(c, idx, EPOLLIN, EPOLL_CTL_MOD);  // wait for the echo to catch up
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          note_error(std::string("write: ") + std::strerror(errno));
          finish(c, failed);
          --active;
          continue;
        }
      }
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = ::read(c.fd, buf.data(), buf.size());
        if (r > 0) {
          const auto got = static_cast<std::size_t>(r);
          if (c.received + got > bytes) {
            note_error("more bytes came back than were sent");
            finish(c, corrupt);
            --active;
            continue;
          }
          fill_pattern(seed, idx, c.received, want.data(), got);
          if (std::memcmp(buf.data(), want.data(), got) != 0) {
            note_error("echoed bytes differ from those sent");
            finish(c, corrupt);
            --active;
            continue;
          }
          const bool was_blocked = c.sent < bytes && c.sent - c.received >= window;
          c.received += got;
          if (c.received == bytes) {
            finish(c, done);
            --active;
          } else if (was_blocked) {
            watch(c, idx, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          note_error(r == 0 ? "closed before the whole echo came back"
                            : std::string("read: ") + std::strerror(errno));
          finish(c, failed);
          --active;
        }
      }
    }
  }
  const double secs = mono() - t0;
  int ok = 0, bad = 0, lost = 0;
  std::uint64_t moved = 0;
  for (auto& c : conns) {
    moved += c.sent + c.received;
    if (c.state == done)
      ++ok;
    else if (c.state == corrupt)
      ++bad;
    else
      ++lost;
    if (c.fd >= 0)
      ::close(c.fd);
  }
  std::printf(
      "result conns=%d ok=%d corrupt=%d lost=%d peak_concurrent=%d bytes_each=%llu "
      "mib_moved=%.1f connect_secs=%.3f secs=%.3f mb_per_s=%.1f first_error=%s\n",
      count, ok, bad, lost, peak, static_cast<unsigned long long>(bytes),
      static_cast<double>(moved) / (1 << 20), connect_secs, secs,
      secs > 0 ? static_cast<double>(moved) / 1e6 / secs : 0.0,
      first_error.empty() ? "none" : ("'" + first_error + "'").c_str());
  std::fflush(stdout);
  return ok == count ? 0 : 1;
}

// --- cps -----------------------------------------------------------------------------------------

int cmd_cps(const Args& a) {
  signal(SIGPIPE, SIG_IGN);
  sockaddr_in sa = parse_hostport(a.need("connect"));
  double seconds = std::stod(a.get("seconds", "3"));
  int threads = std::stoi(a.get("threads", "4"));
  std::atomic<long> ok{0}, failed{0};
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(threads));
  double t0 = mono(), end = t0 + seconds;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      auto& my = lat[static_cast<std::size_t>(t)];
      while (mono() < end) {
        double s = mono();
        int fd = connect_to(sa);
        if (fd < 0) {
          ++failed;
          usleep(1000);
          continue;
        }
        timeval tmo{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
        char x = 'x';
        bool good = ::write(fd, &x, 1) == 1 && ::read(fd, &x, 1) == 1;
        ::close(fd);
        if (good) {
          ++ok;
          my.push_back((mono() - s) * 1000);
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : ts)
    t.join();
  double secs = mono() - t0;
  std::vector<double> all;
  for (auto& v : lat)
    all.insert(all.end(), v.begin(), v.end());
  std::printf("result conns=%ld failed=%ld secs=%.3f cps=%.1f p50_ms=%.3f p99_ms=%.3f\n", ok.load(),
              failed.load(), secs, static_cast<double>(ok.load()) / secs, percentile(all, 50),
              percentile(all, 99));
  return 0;
}

// --- startup -------------------------------------------------------------------------------------

int cmd_startup(const Args& a) {
  int runs = std::stoi(a.get("runs", "30"));
  double timeout = std::stod(a.get("timeout", "5"));
  double gap = std::stod(a.get("gap-ms", "20")) * 1e-3;
  int lfd = listen_on("127.0.0.1", std::stoi(a.need("port")), 64);
  std::vector<double> ms;
  int failed = 0;
  for (int run = 0; run < runs; ++run) {
    double t0r = real_now();
    double t0 = mono();
    pid_t pid = spawn(a.cmd, -1, -1, "", true);
    pollfd p{lfd, POLLIN, 0};
    int pr;
    do
      pr = poll(&p, 1, static_cast<int>(timeout * 1000));
    while (pr < 0 && errno == EINTR);
    double t1 = mono();
    int afd = pr > 0 ? accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    kill(-pid, SIGKILL);
    reap(pid, 5);
    if (afd >= 0) {
      ::close(afd);
      ms.push_back((t1 - t0) * 1000);
      std::printf("sample run=%d t0_real=%.9f accept_ms=%.3f\n", run, t0r, (t1 - t0) * 1000);
    } else {
      ++failed;
      std::printf("sample run=%d t0_real=%.9f failed\n", run, t0r);
    }
    std::fflush(stdout);
    usleep(static_cast<useconds_t>(gap * 1e6));
  }
  print_summary(ms, runs);
  return failed ? 1 : 0;
}

int cmd_cgexec(const Args& a) {
  if (a.pos.size() != 1)
    die("usage: hcbench cgexec DIR -- CMD...");
  join_cgroup(a.pos[0]);
  exec_cmd(a.cmd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    die("usage: hcbench "
        "serve|nc|connect-idle|first-byte|bulk-stdio|bulk-tcp|hold|load|cps|startup|cgexec ...");
  std::string sub = argv[1];
  Args a = parse(argc, argv, 2);
  if (sub == "serve")
    return cmd_serve(a);
  if (sub == "nc")
    return cmd_nc(a);
  if (sub == "connect-idle")
    return cmd_connect_idle(a);
  if (sub == "first-byte")
    return cmd_first_byte(a);
  if (sub == "bulk-stdio")
    return cmd_bulk_stdio(a);
  if (sub == "bulk-tcp")
    return cmd_bulk_tcp(a);
  if (sub == "hold")
    return cmd_hold(a);
  if (sub == "load")
    return cmd_load(a);
  if (sub == "cps")
    return cmd_cps(a);
  if (sub == "startup")
    return cmd_startup(a);
  if (sub == "cgexec")
    return cmd_cgexec(a);
  die("unknown subcommand " + sub);
}
