// ready_probe: the start-up time of a server, for bench/run's start
// section (bench/lib/start.sh). Starts COMMAND itself (posix_spawnp; its
// stdin from /dev/null, its stdout and stderr appended to LOG) and, from
// the moment just before the spawn, connects to 127.0.0.1:PORT every
// INTERVAL_US microseconds, a new connection each time, with
// `GET PATH HTTP/1.1` until one answers `HTTP/1.x 200`. One process and one
// monotonic clock from the spawn to the first 200: no shell, no curl and no
// process start per poll.
//
//   ready_probe PORT PATH LOG INTERVAL_US -- COMMAND [ARG...]
//
// Prints "pid=PID ready_us=US polls=N" and exits 0, leaving the server
// running (the caller stops it by its PID). If the server exits, or has not
// answered 200 within 30 s, or the probe gets SIGINT, SIGTERM or SIGHUP,
// it kills the server (SIGKILL), says why on stderr and exits 1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = std::chrono::seconds(30);

volatile std::sig_atomic_t stop_signal = 0;

void OnSignal(int signal) { stop_signal = signal; }

int64_t Micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// One poll: whether a new connection to `address` answers `request` with a
// 200 status line before `deadline`; `answered` is when the line came.
bool AnswersOk(const sockaddr_in& address, const std::string& request,
               Clock::time_point deadline, Clock::time_point& answered) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    // The status line: "HTTP/1.1 200 OK\r\n".
    char line[64];
    size_t got = 0;
    while (got < sizeof(line) && stop_signal == 0) {
      const int64_t left_ms = Micros(deadline - Clock::now()) / 1000;
      if (left_ms <= 0) break;
      pollfd p{fd, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left_ms));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      const ssize_t n = recv(fd, line + got, sizeof(line) - got, 0);
      answered = Clock::now();
      if (n <= 0) break;
      got += static_cast<size_t>(n);
      if (std::memchr(line, '\n', got) != nullptr || got >= 13) break;
    }
    ok = got >= 13 && std::memcmp(line, "HTTP/1.", 7) == 0 &&
         std::memcmp(line + 8, " 200 ", 5) == 0;
  }
  close(fd);
  return ok;
}

// Kills and reaps the server; exits 1 with `why`.
[[noreturn]] void Fail(pid_t pid, const std::string& why) {
  std::fprintf(stderr, "ready_probe: %s\n", why.c_str());
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7 || std::strcmp(argv[5], "--") != 0) {
    std::fprintf(stderr,
                 "usage: ready_probe PORT PATH LOG INTERVAL_US -- COMMAND "
                 "[ARG...]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string path = argv[2];
  const char* log = argv[3];
  const int64_t interval_us = std::strtoll(argv[4], nullptr, 10);
  if (port <= 0 || port > 65535 || interval_us <= 0 || path.empty()) {
    std::fprintf(stderr, "ready_probe: bad PORT, PATH or INTERVAL_US\n");
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
  const timespec interval{interval_us / 1'000'000,
                          (interval_us % 1'000'000) * 1000};

  // No SA_RESTART: a signal ends the wait between polls at once. The
  // server starts with these signals at their defaults (exec resets them).
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal, &action, nullptr);
  }

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY,
                                   0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log,
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);

  pid_t pid = 0;
  const Clock::time_point start = Clock::now();
  const int error =
      posix_spawnp(&pid, argv[6], &files, nullptr, argv + 6, environ);
  posix_spawn_file_actions_destroy(&files);
  if (error != 0) {
    Fail(0,
         std::string("cannot start ") + argv[6] + ": " + std::strerror(error));
  }
  const Clock::time_point deadline = start + kTimeout;
  Clock::time_point ready;
  int64_t polls = 0;
  while (true) {
    ++polls;
    if (AnswersOk(address, request, deadline, ready)) break;
    if (stop_signal != 0) {
      Fail(pid, "stopped by signal " + std::to_string(stop_signal));
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      Fail(0, std::string(argv[6]) +
                  (WIFEXITED(status) ? " exited with status " +
                                           std::to_string(WEXITSTATUS(status))
                                     : " died of signal " +
                                           std::to_string(WTERMSIG(status))) +
                  " before " + path + " answered 200");
    }
    if (Clock::now() >= deadline) {
      Fail(pid, path + " did not answer 200 within 30 s");
    }
    nanosleep(&interval, nullptr);
  }
  std::printf("pid=%d ready_us=%lld polls=%lld\n", static_cast<int>(pid),
              static_cast<long long>(Micros(ready - start)),
              static_cast<long long>(polls));
  return 0;
}
