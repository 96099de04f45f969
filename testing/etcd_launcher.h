// Starts real etcd processes for tests: one member or a cluster on free
// loopback ports, optionally with TLS certificates made by `openssl`, data
// and logs in a temporary directory, all stopped and removed at the end.
#ifndef SNOWFLAKE_TESTING_ETCD_LAUNCHER_H_
#define SNOWFLAKE_TESTING_ETCD_LAUNCHER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "testing/server_process.h"

namespace snowflake::testing {

struct EtcdLauncherOptions {
  // 1, or 3 (or more) for a cluster that survives one member's death.
  int members = 1;
  // Serve clients over https with a test CA and require client certificates
  // (--client-cert-auth). Peers talk plain http.
  bool tls = false;
  // Appended to every member's command line, e.g. {"--auth-token-ttl", "1"}.
  std::vector<std::string> extra_flags;
  std::string etcd_binary = "etcd";
  std::string etcdctl_binary = "etcdctl";
  std::string openssl_binary = "openssl";
  // How long Start/Restart wait for members to report healthy.
  std::chrono::milliseconds start_timeout{20000};
};

// PEM files made for a TLS launcher (all empty without TLS).
struct EtcdTlsFiles {
  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
  std::string client_cert_file;
  std::string client_key_file;
};

// Owns the etcd processes and their directory. Not thread-safe: drive it
// from the test's thread. The destructor stops every member (SIGTERM, then
// SIGKILL after a few seconds; paused members are continued first), prints
// the tail of each member's log if the current test failed, and removes the
// directory unless SNOWFLAKE_KEEP_TEST_DIRS is set.
class EtcdLauncher {
 public:
  // Makes the directory (and certificates), starts every member, and waits
  // until each reports healthy. Errors: kUnavailable (etcd did not come up,
  // with the log's tail), kInternal (a helper command failed).
  static absl::StatusOr<std::unique_ptr<EtcdLauncher>> Start(
      EtcdLauncherOptions options = {});

  ~EtcdLauncher();
  EtcdLauncher(const EtcdLauncher&) = delete;
  EtcdLauncher& operator=(const EtcdLauncher&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "http://127.0.0.1:port" (https with TLS) of member `i`.
  std::string ClientUrl(int i) const;
  std::vector<std::string> ClientUrls() const;
  const EtcdTlsFiles& tls_files() const { return tls_files_; }
  const std::string& dir() const { return dir_; }
  // The PID of member `i`, or -1 when it is not running.
  pid_t pid(int i) const;

  // SIGKILLs member `i` and reaps it.
  absl::Status Kill(int i);
  // Starts member `i` again on its data and ports; waits until it is healthy
  // when `wait_healthy` (which needs a quorum).
  absl::Status Restart(int i, bool wait_healthy = true);
  // SIGSTOP / SIGCONT member `i`: it keeps its sockets but answers nothing.
  absl::Status Pause(int i);
  absl::Status Resume(int i);

  // Runs etcdctl against every member (with the TLS files when set) plus
  // `args`; returns its output (stdout and stderr). Errors: kInternal with
  // the output when it exits non-zero or takes over 10 s.
  absl::StatusOr<std::string> Etcdctl(const std::vector<std::string>& args);

  // `etcdctl snapshot save` of member 0 into `path` (a file).
  absl::Status SaveSnapshot(const std::string& path);
  // Replaces a one-member cluster's data with the snapshot at `path`: stops
  // the member, `etcdctl snapshot restore` into a fresh data dir with the
  // same name, peer URL and initial cluster, starts it and waits until it is
  // healthy. Errors: kFailedPrecondition with several members, else as
  // Restart and Etcdctl.
  absl::Status RestoreFromSnapshot(const std::string& path);

  // The last `lines` lines of member `i`'s log.
  std::string LogTail(int i, int lines = 30) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string data_dir;
    std::string log_file;
    ServerProcess process;  // Named in Start.
  };

  EtcdLauncher(EtcdLauncherOptions options, std::string dir);

  absl::Status MakeCertificates();
  absl::Status Spawn(Member& member);
  absl::Status WaitHealthy(int i);
  std::string PeerUrl(const Member& member) const;

  const EtcdLauncherOptions options_;
  const std::string dir_;
  std::vector<Member> members_;
  EtcdTlsFiles tls_files_;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_ETCD_LAUNCHER_H_
