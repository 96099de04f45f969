// Starts real ZooKeeper servers for tests: one server or an ensemble on free
// loopback ports, run from Debian's zookeeper jars (QuorumPeerMain, not the
// system service), data and logs in a temporary directory, all stopped and
// removed at the end.
#ifndef SNOWFLAKE_TESTING_ZOOKEEPER_LAUNCHER_H_
#define SNOWFLAKE_TESTING_ZOOKEEPER_LAUNCHER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "testing/server_process.h"

namespace snowflake::testing {

struct ZooKeeperLauncherOptions {
  // 1 (standalone), or 3 (or more) for an ensemble that survives one
  // member's death.
  int members = 1;
  // ZooKeeper's time unit. Sessions may last from 2 to max_session_timeout
  // ticks' worth; a follower that misses sync_limit ticks is dropped.
  std::chrono::milliseconds tick{200};
  int init_limit_ticks = 25;
  int sync_limit_ticks = 5;
  std::chrono::milliseconds max_session_timeout{60000};
  std::string java_binary = "java";
  // Where zookeeper.jar (whose manifest lists its dependencies) and
  // slf4j-simple.jar (the server's log, to its stderr) are looked for.
  std::vector<std::string> jar_dirs = {"/usr/share/java",
                                       "/usr/share/zookeeper"};
  // The JVM's flags: a small heap and a quick start.
  std::vector<std::string> jvm_flags = {
      "-Xmx128m",         "-Xss512k",
      "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true"};
  // How long Start/Restart wait for members to serve clients.
  std::chrono::milliseconds start_timeout{40000};
};

// Owns the ZooKeeper processes and their directory. Not thread-safe: drive
// it from the test's thread. The destructor stops every member (SIGTERM,
// then SIGKILL after a few seconds; paused members are continued first),
// prints the tail of each member's log if the current test failed, and
// removes the directory unless SNOWFLAKE_KEEP_TEST_DIRS is set.
class ZooKeeperLauncher {
 public:
  // Writes each member's zoo.cfg and myid, starts every member, and waits
  // until each serves clients ("srvr" reports its mode). Errors:
  // kInvalidArgument (bad options), kNotFound (no java or zookeeper.jar),
  // kUnavailable (a member did not come up, with its log's tail),
  // kInternal (files, fork).
  static absl::StatusOr<std::unique_ptr<ZooKeeperLauncher>> Start(
      ZooKeeperLauncherOptions options = {});

  ~ZooKeeperLauncher();
  ZooKeeperLauncher(const ZooKeeperLauncher&) = delete;
  ZooKeeperLauncher& operator=(const ZooKeeperLauncher&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:port" of member `i`'s client port.
  std::string ClientAddress(int i) const;
  // The client addresses of `members` (all when empty), comma-separated: a
  // ZooKeeper connection string, without a chroot.
  std::string ConnectString(const std::vector<int>& members = {}) const;
  const std::string& dir() const { return dir_; }
  // The PID of member `i`, or -1 when it is not running.
  pid_t pid(int i) const;
  // How long Start took until every member served clients.
  std::chrono::milliseconds start_duration() const { return start_duration_; }

  // SIGKILLs member `i` and reaps it.
  absl::Status Kill(int i);
  // Starts member `i` again on its data and ports; waits until it serves
  // clients when `wait_serving` (which needs a quorum).
  absl::Status Restart(int i, bool wait_serving = true);
  // SIGSTOP / SIGCONT member `i`: it keeps its sockets but answers nothing.
  // Pause returns once every thread of the member has stopped.
  absl::Status Pause(int i);
  absl::Status Resume(int i);
  // Waits until member `i` serves clients again (after Resume, say).
  absl::Status WaitServing(int i);

  // Sends a four-letter word ("srvr", "ruok", "stat", "mntr") to member `i`
  // and returns the answer. Errors: kUnavailable (no answer within 1 s).
  absl::StatusOr<std::string> FourLetterWord(int i, const std::string& word);
  // "leader", "follower" or "standalone", from "srvr".
  absl::StatusOr<std::string> Mode(int i);
  // The index of a member whose Mode is `mode`, or -1.
  int FindMember(const std::string& mode);

  // The last `lines` lines of member `i`'s log.
  std::string LogTail(int i, int lines = 30) const;

 private:
  struct Member {
    int id = 0;  // myid, from 1
    int client_port = 0;
    int quorum_port = 0;
    int election_port = 0;
    std::string data_dir;
    std::string config_file;
    std::string log_file;
    ServerProcess process;  // Named in Start.
  };

  ZooKeeperLauncher(ZooKeeperLauncherOptions options, std::string dir);

  absl::Status WriteConfig(const Member& member) const;
  absl::Status Spawn(Member& member);

  const ZooKeeperLauncherOptions options_;
  const std::string dir_;
  std::string class_path_;
  std::vector<Member> members_;
  std::chrono::milliseconds start_duration_{0};
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_ZOOKEEPER_LAUNCHER_H_
