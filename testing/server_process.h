// Child processes for the launchers of real servers (etcd, ZooKeeper):
// spawn one with its output in a log file, stop, kill, pause and resume it
// by PID, run a helper command, and pick free loopback ports.
#ifndef SNOWFLAKE_TESTING_SERVER_PROCESS_H_
#define SNOWFLAKE_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::testing {

// "what: strerror(errno)".
std::string ErrnoText(const char* what);

// `binary` found on PATH (or itself when it holds a '/'), or empty when no
// executable file of that name exists.
std::string ResolveBinary(const std::string& binary);

// This process's environment without the variables whose names start with
// one of `prefixes`: they would configure a server behind its flags' backs.
std::vector<std::string> EnvironmentWithout(
    const std::vector<std::string>& prefixes);

// Starts `argv` (argv[0] resolved on PATH) in `env`, with stdin from
// /dev/null and stdout and stderr appended to `log_file`. The child dies
// with the test process (PR_SET_PDEATHSIG), so no server outlives a crash.
// Errors: kNotFound when argv[0] is not found, kInternal when it cannot be
// started.
absl::StatusOr<pid_t> SpawnProcess(std::vector<std::string> argv,
                                   const std::string& log_file,
                                   std::vector<std::string> env);

// Waits up to `timeout` for `pid` to exit, reaping it; its wait status, or
// nullopt if it still runs.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout);

// Waits up to `timeout` until every thread of `pid` is stopped (state T in
// /proc): kill(SIGSTOP) returns before the signal has stopped them all, and
// a thread may answer one more request meanwhile.
bool WaitStopped(pid_t pid, std::chrono::milliseconds timeout);

// Runs `argv` to completion, at most `timeout`, with its output in
// `output_file`; returns that output. Errors: kInternal (naming the command
// and its output) when it fails or times out.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       const std::string& output_file,
                                       std::vector<std::string> env,
                                       std::chrono::milliseconds timeout);

// Reserves `count` distinct free loopback ports. They are released before
// the server binds them, so another process could take one in between;
// unlikely enough for tests.
absl::StatusOr<std::vector<int>> FreePorts(int count);

// The whole file (empty if it cannot be read).
std::string ReadFile(const std::string& path);

// The last `lines` lines of the file at `path`.
std::string LogTail(const std::string& path, int lines);

// One server process a launcher owns, known by its PID. Not thread-safe;
// copyable as a record (the copy names the same process).
class ServerProcess {
 public:
  // `name` ("etcd member 1") is used in messages; `grace` is how long Stop
  // waits between SIGTERM and SIGKILL.
  ServerProcess(std::string name, std::chrono::milliseconds grace);
  ServerProcess() : ServerProcess("server", std::chrono::seconds(5)) {}

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

  // SpawnProcess, and this is that process from now on.
  absl::Status Start(std::vector<std::string> argv, const std::string& log_file,
                     std::vector<std::string> env);
  // Whether it was started and has not exited (an exit is reaped here).
  bool Running();
  // SIGTERM (and SIGCONT if paused), then SIGKILL after the grace; nothing
  // if it does not run.
  void Stop();
  // SIGKILL, and waits for the exit. kFailedPrecondition if not running.
  absl::Status Kill();
  // SIGSTOP, and waits until every thread has stopped. kFailedPrecondition
  // if not running, kInternal if it does not stop within the grace.
  absl::Status Pause();
  // SIGCONT. kFailedPrecondition if not running.
  absl::Status Resume();

 private:
  absl::Status NotRunning() const;

  std::string name_;
  std::chrono::milliseconds grace_;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_SERVER_PROCESS_H_
