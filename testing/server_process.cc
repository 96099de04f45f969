#include "testing/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace snowflake::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string ErrnoText(const char* what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

std::string ResolveBinary(const std::string& binary) {
  if (binary.find('/') != std::string::npos) {
    return ::access(binary.c_str(), X_OK) == 0 ? binary : "";
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", binary);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::vector<std::string> EnvironmentWithout(
    const std::vector<std::string>& prefixes) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view e(*entry);
    bool drop = false;
    for (const std::string& prefix : prefixes) drop |= e.starts_with(prefix);
    if (!drop) env.emplace_back(e);
  }
  return env;
}

absl::StatusOr<pid_t> SpawnProcess(std::vector<std::string> argv,
                                   const std::string& log_file,
                                   std::vector<std::string> env) {
  const std::string resolved = ResolveBinary(argv.at(0));
  if (resolved.empty()) {
    return absl::NotFoundError(absl::StrCat(
        argv[0], ": no such executable (is its package installed?)"));
  }
  argv[0] = resolved;
  std::vector<char*> argv_ptrs = Pointers(argv);
  std::vector<char*> env_ptrs = Pointers(env);
  const int log_fd =
      ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(ErrnoText(log_file.c_str()));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return absl::InternalError(ErrnoText("fork"));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
    static constexpr char kExecFailed[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

std::optional<int> WaitExit(pid_t pid, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return status;
    if (steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

bool WaitStopped(pid_t pid, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  while (true) {
    bool all_stopped = true;
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
      const std::string stat = ReadFile(task.path() / "stat");
      // "pid (comm) S ...": the state follows the last ')'.
      const size_t paren = stat.rfind(')');
      if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
      const char state = stat[paren + 2];
      if (state != 'T' && state != 't') all_stopped = false;
    }
    if (error) return false;
    if (all_stopped) return true;
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
}

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       const std::string& output_file,
                                       std::vector<std::string> env,
                                       milliseconds timeout) {
  std::filesystem::remove(output_file);
  absl::StatusOr<pid_t> pid = SpawnProcess(argv, output_file, std::move(env));
  if (!pid.ok()) return pid.status();
  std::optional<int> status = WaitExit(*pid, timeout);
  if (!status.has_value()) {
    ::kill(*pid, SIGKILL);
    WaitExit(*pid, timeout);
  }
  std::string output = ReadFile(output_file);
  if (!status.has_value() || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat(
        "`", absl::StrJoin(argv, " "), "` ",
        status.has_value() ? "failed" : "timed out", ": ", output));
  }
  return output;
}

absl::StatusOr<std::vector<int>> FreePorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      status = absl::InternalError(ErrnoText("socket"));
      break;
    }
    fds.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
            0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) !=
            0) {
      status = absl::InternalError(ErrnoText("bind 127.0.0.1:0"));
      break;
    }
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string LogTail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(std::move(line));
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

ServerProcess::ServerProcess(std::string name, milliseconds grace)
    : name_(std::move(name)), grace_(grace) {}

absl::Status ServerProcess::Start(std::vector<std::string> argv,
                                  const std::string& log_file,
                                  std::vector<std::string> env) {
  absl::StatusOr<pid_t> pid =
      SpawnProcess(std::move(argv), log_file, std::move(env));
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  paused_ = false;
  return absl::OkStatus();
}

bool ServerProcess::Running() {
  if (pid_ <= 0) return false;
  if (WaitExit(pid_, milliseconds(0)).has_value()) {
    pid_ = -1;
    paused_ = false;
    return false;
  }
  return true;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (paused_) ::kill(pid_, SIGCONT);
  if (!WaitExit(pid_, grace_).has_value()) {
    ::kill(pid_, SIGKILL);
    WaitExit(pid_, grace_);
  }
  pid_ = -1;
  paused_ = false;
}

absl::Status ServerProcess::Kill() {
  if (pid_ <= 0) return NotRunning();
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, grace_);
  pid_ = -1;
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ServerProcess::Pause() {
  if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0) return NotRunning();
  paused_ = true;
  if (!WaitStopped(pid_, grace_)) {
    return absl::InternalError(absl::StrCat(name_, " did not stop on SIGSTOP"));
  }
  return absl::OkStatus();
}

absl::Status ServerProcess::Resume() {
  if (pid_ <= 0 || ::kill(pid_, SIGCONT) != 0) return NotRunning();
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ServerProcess::NotRunning() const {
  return absl::FailedPreconditionError(absl::StrCat(name_, " is not running"));
}

}  // namespace snowflake::testing
