// Test helper: runs a real `snowflaked` as a child process on a free
// loopback port, with its log in a file, and stops it by PID.
#ifndef SNOWFLAKE_TESTING_DAEMON_PROCESS_H_
#define SNOWFLAKE_TESTING_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace snowflake::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DaemonOptions {
  std::string binary;                                    // Path of snowflaked.
  std::vector<std::string> args;                         // Extra flags.
  std::vector<std::pair<std::string, std::string>> env;  // Extra env vars.
  std::string log_path;  // stdout+stderr go here.
  // Wait this long for "event=ready" (or for the process to exit).
  std::chrono::milliseconds ready_timeout = std::chrono::seconds(20);
};

// Not thread-safe; one owner. The destructor kills the process if it is
// still running.
class DaemonProcess {
 public:
  // Starts the binary with `--listen 127.0.0.1:0` (unless args set
  // --listen) and waits until it logs its port and is ready, or exits.
  // Check running() / exit_code() to tell which.
  static std::unique_ptr<DaemonProcess> Start(const DaemonOptions& options);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  bool ready() const { return ready_; }
  bool running();
  // Exit code once the process has exited; -signal if killed by one.
  std::optional<int> exit_code();

  void Signal(int signal);
  // Waits for the process to exit; nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  DaemonProcess() = default;
  void Reap(int status);

  pid_t pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
  std::optional<int> exit_code_;
  std::string log_path_;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_DAEMON_PROCESS_H_
