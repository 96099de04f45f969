#include "testing/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace snowflake::testing {

TempDir::TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "snowflake_it.XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<DaemonProcess> DaemonProcess::Start(
    const DaemonOptions& options) {
  std::unique_ptr<DaemonProcess> process(new DaemonProcess());
  process->log_path_ = options.log_path;
  std::vector<std::string> argv = {options.binary};
  bool has_listen = false;
  for (const std::string& arg : options.args) {
    has_listen = has_listen || arg.rfind("--listen", 0) == 0;
  }
  if (!has_listen) {
    argv.push_back("--listen");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());

  // Truncate the log so that readiness is read from this run only.
  { std::ofstream truncate(options.log_path, std::ios::trunc); }
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(options.log_path.c_str(), O_WRONLY | O_APPEND);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& [name, value] : options.env) {
      setenv(name.c_str(), value.c_str(), 1);
    }
    std::vector<char*> raw;
    raw.reserve(argv.size() + 1);
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  process->pid_ = pid;
  const auto deadline =
      std::chrono::steady_clock::now() + options.ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string log = process->Log();
    if (process->port_ == 0) {
      const size_t at = log.find("event=listening");
      const size_t port_at = log.find("port=", at);
      if (at != std::string::npos && port_at != std::string::npos) {
        process->port_ = std::atoi(log.c_str() + port_at + 5);
      }
    }
    if (log.find("event=ready") != std::string::npos) {
      process->ready_ = true;
      break;
    }
    if (!process->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return process;
}

DaemonProcess::~DaemonProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
}

void DaemonProcess::Reap(int status) {
  if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = -WTERMSIG(status);
  }
}

bool DaemonProcess::running() {
  if (exit_code_.has_value() || pid_ <= 0) return false;
  int status = 0;
  const pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == pid_) {
    Reap(status);
    return false;
  }
  return true;
}

std::optional<int> DaemonProcess::exit_code() {
  running();
  return exit_code_;
}

void DaemonProcess::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

std::optional<int> DaemonProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

std::string DaemonProcess::Log() const {
  std::ifstream file(log_path_);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

}  // namespace snowflake::testing
