#include "testing/etcd_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "testing/server_process.h"

namespace snowflake::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// How long a stopped member gets between SIGTERM and SIGKILL.
constexpr milliseconds kStopGrace{5000};
// The longest a helper command (etcdctl, openssl) may run.
constexpr milliseconds kCommandTimeout{10000};
// Between two health probes.
constexpr milliseconds kProbeInterval{100};

// The environment without ETCD*/ETCDCTL* variables, which would otherwise
// configure the processes behind the flags' backs.
std::vector<std::string> EtcdEnvironment() {
  return EnvironmentWithout({"ETCD"});
}

// A helper command (etcdctl, openssl) in that environment.
absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                    const std::string& output_file) {
  return RunCommand(argv, output_file, EtcdEnvironment(), kCommandTimeout);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdLauncher>> EtcdLauncher::Start(
    EtcdLauncherOptions options) {
  if (options.members < 1) {
    return absl::InvalidArgumentError("etcd launcher: members must be >= 1");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/snowflake-etcd-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(ErrnoText("mkdtemp"));
  }
  const int members = options.members;
  std::unique_ptr<EtcdLauncher> launcher(
      new EtcdLauncher(std::move(options), pattern));
  if (launcher->options_.tls) {
    if (absl::Status status = launcher->MakeCertificates(); !status.ok()) {
      return status;
    }
  }
  absl::StatusOr<std::vector<int>> ports = FreePorts(2 * members);
  if (!ports.ok()) return ports.status();
  for (int i = 0; i < members; ++i) {
    Member member;
    member.name = absl::StrCat("m", i);
    member.process = ServerProcess(absl::StrCat("etcd member ", i), kStopGrace);
    member.client_port = (*ports)[2 * static_cast<size_t>(i)];
    member.peer_port = (*ports)[2 * static_cast<size_t>(i) + 1];
    member.data_dir = absl::StrCat(launcher->dir_, "/", member.name, ".etcd");
    member.log_file = absl::StrCat(launcher->dir_, "/", member.name, ".log");
    launcher->members_.push_back(std::move(member));
  }
  for (Member& member : launcher->members_) {
    if (absl::Status status = launcher->Spawn(member); !status.ok()) {
      return status;
    }
  }
  for (int i = 0; i < members; ++i) {
    if (absl::Status status = launcher->WaitHealthy(i); !status.ok()) {
      return status;
    }
  }
  return launcher;
}

EtcdLauncher::EtcdLauncher(EtcdLauncherOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

EtcdLauncher::~EtcdLauncher() {
  for (Member& member : members_) member.process.Stop();
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr && ::testing::Test::HasFailure()) {
    for (int i = 0; i < size(); ++i) {
      std::fprintf(stderr, "---- tail of etcd member %d log (%s) ----\n%s\n", i,
                   members_[i].log_file.c_str(), LogTail(i).c_str());
    }
  }
  if (std::getenv("SNOWFLAKE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  } else {
    std::fprintf(stderr, "etcd launcher: kept %s\n", dir_.c_str());
  }
}

std::string EtcdLauncher::ClientUrl(int i) const {
  return absl::StrCat(options_.tls ? "https" : "http",
                      "://127.0.0.1:", members_.at(i).client_port);
}

std::vector<std::string> EtcdLauncher::ClientUrls() const {
  std::vector<std::string> urls;
  urls.reserve(members_.size());
  for (int i = 0; i < size(); ++i) urls.push_back(ClientUrl(i));
  return urls;
}

std::string EtcdLauncher::PeerUrl(const Member& member) const {
  return absl::StrCat("http://127.0.0.1:", member.peer_port);
}

pid_t EtcdLauncher::pid(int i) const { return members_.at(i).process.pid(); }

absl::Status EtcdLauncher::MakeCertificates() {
  const std::string& o = options_.openssl_binary;
  const std::string out = absl::StrCat(dir_, "/openssl.out");
  auto path = [&](const char* name) { return absl::StrCat(dir_, "/", name); };
  tls_files_.ca_file = path("ca.crt");
  tls_files_.server_cert_file = path("server.crt");
  tls_files_.server_key_file = path("server.key");
  tls_files_.client_cert_file = path("client.crt");
  tls_files_.client_key_file = path("client.key");
  {
    std::ofstream server(path("server.ext"));
    server << "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
              "basicConstraints = CA:FALSE\n"
              "keyUsage = digitalSignature, keyEncipherment\n"
              "extendedKeyUsage = serverAuth, clientAuth\n";
    std::ofstream client(path("client.ext"));
    client << "basicConstraints = CA:FALSE\n"
              "keyUsage = digitalSignature, keyEncipherment\n"
              "extendedKeyUsage = clientAuth\n";
  }
  // P-256 keys: quick to make, and both Go and gRPC take them.
  const std::vector<std::string> new_key = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::vector<std::string>> commands;
  commands.push_back({o, "req", "-x509", "-days", "2", "-subj",
                      "/CN=snowflake-test-ca", "-keyout", path("ca.key"),
                      "-out", tls_files_.ca_file});
  commands.back().insert(commands.back().end(), new_key.begin(), new_key.end());
  for (const auto& [name, subject] :
       {std::pair{"server", "/CN=127.0.0.1"},
        std::pair{"client", "/CN=snowflake-test-client"}}) {
    const std::string base = path(name);
    commands.push_back({o, "req", "-subj", subject, "-keyout", base + ".key",
                        "-out", base + ".csr"});
    commands.back().insert(commands.back().end(), new_key.begin(),
                           new_key.end());
    commands.push_back({o, "x509", "-req", "-in", base + ".csr", "-CA",
                        tls_files_.ca_file, "-CAkey", path("ca.key"),
                        "-CAcreateserial", "-days", "2", "-extfile",
                        base + ".ext", "-out", base + ".crt"});
  }
  for (const std::vector<std::string>& argv : commands) {
    if (absl::StatusOr<std::string> r = RunTool(argv, out); !r.ok()) {
      return r.status();
    }
  }
  return absl::OkStatus();
}

absl::Status EtcdLauncher::Spawn(Member& member) {
  std::vector<std::string> cluster;
  for (const Member& m : members_) {
    cluster.push_back(absl::StrCat(m.name, "=", PeerUrl(m)));
  }
  const std::string client_url = absl::StrCat(
      options_.tls ? "https" : "http", "://127.0.0.1:", member.client_port);
  std::vector<std::string> argv = {options_.etcd_binary,
                                   "--name",
                                   member.name,
                                   "--data-dir",
                                   member.data_dir,
                                   "--listen-client-urls",
                                   client_url,
                                   "--advertise-client-urls",
                                   client_url,
                                   "--listen-peer-urls",
                                   PeerUrl(member),
                                   "--initial-advertise-peer-urls",
                                   PeerUrl(member),
                                   "--initial-cluster",
                                   absl::StrJoin(cluster, ","),
                                   "--initial-cluster-state",
                                   "new",
                                   "--initial-cluster-token",
                                   "snowflake-test",
                                   "--logger",
                                   "zap",
                                   "--log-outputs",
                                   "stderr"};
  if (options_.tls) {
    argv.insert(argv.end(),
                {"--cert-file", tls_files_.server_cert_file, "--key-file",
                 tls_files_.server_key_file, "--trusted-ca-file",
                 tls_files_.ca_file, "--client-cert-auth"});
  }
  argv.insert(argv.end(), options_.extra_flags.begin(),
              options_.extra_flags.end());
  return member.process.Start(argv, member.log_file, EtcdEnvironment());
}

absl::Status EtcdLauncher::WaitHealthy(int i) {
  Member& member = members_.at(i);
  const auto deadline = steady_clock::now() + options_.start_timeout;
  std::vector<std::string> argv = {options_.etcdctl_binary,
                                   "--endpoints",
                                   ClientUrl(i),
                                   "--dial-timeout",
                                   "1s",
                                   "--command-timeout",
                                   "2s"};
  if (options_.tls) {
    argv.insert(argv.end(), {"--cacert", tls_files_.ca_file, "--cert",
                             tls_files_.client_cert_file, "--key",
                             tls_files_.client_key_file});
  }
  argv.insert(argv.end(), {"endpoint", "health"});
  const std::string out = absl::StrCat(dir_, "/health.out");
  std::string last_error;
  while (true) {
    if (!member.process.Running()) {
      return absl::UnavailableError(absl::StrCat(
          "etcd member ", i, " exited at start; log tail:\n", LogTail(i)));
    }
    absl::StatusOr<std::string> probe = RunTool(argv, out);
    if (probe.ok()) return absl::OkStatus();
    last_error = probe.status().ToString();
    if (steady_clock::now() >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("etcd member ", i, " not healthy within ",
                       options_.start_timeout.count(), " ms: ", last_error,
                       "\nlog tail:\n", LogTail(i)));
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
}

absl::Status EtcdLauncher::Kill(int i) { return members_.at(i).process.Kill(); }

absl::Status EtcdLauncher::Restart(int i, bool wait_healthy) {
  Member& member = members_.at(i);
  member.process.Stop();
  if (absl::Status status = Spawn(member); !status.ok()) return status;
  return wait_healthy ? WaitHealthy(i) : absl::OkStatus();
}

absl::Status EtcdLauncher::Pause(int i) {
  return members_.at(i).process.Pause();
}

absl::Status EtcdLauncher::Resume(int i) {
  return members_.at(i).process.Resume();
}

absl::StatusOr<std::string> EtcdLauncher::Etcdctl(
    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {options_.etcdctl_binary, "--endpoints",
                                   absl::StrJoin(ClientUrls(), ",")};
  if (options_.tls) {
    argv.insert(argv.end(), {"--cacert", tls_files_.ca_file, "--cert",
                             tls_files_.client_cert_file, "--key",
                             tls_files_.client_key_file});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTool(argv, absl::StrCat(dir_, "/etcdctl.out"));
}

absl::Status EtcdLauncher::SaveSnapshot(const std::string& path) {
  std::vector<std::string> argv = {options_.etcdctl_binary, "--endpoints",
                                   ClientUrl(0)};
  if (options_.tls) {
    argv.insert(argv.end(), {"--cacert", tls_files_.ca_file, "--cert",
                             tls_files_.client_cert_file, "--key",
                             tls_files_.client_key_file});
  }
  argv.insert(argv.end(), {"snapshot", "save", path});
  absl::StatusOr<std::string> out =
      RunTool(argv, absl::StrCat(dir_, "/snapshot.out"));
  return out.ok() ? absl::OkStatus() : out.status();
}

absl::Status EtcdLauncher::RestoreFromSnapshot(const std::string& path) {
  if (size() != 1) {
    return absl::FailedPreconditionError(
        "etcd launcher: RestoreFromSnapshot needs a one-member cluster");
  }
  Member& member = members_.at(0);
  member.process.Stop();
  std::error_code ignored;
  std::filesystem::remove_all(member.data_dir, ignored);
  const std::vector<std::string> argv = {
      options_.etcdctl_binary,
      "snapshot",
      "restore",
      path,
      "--name",
      member.name,
      "--data-dir",
      member.data_dir,
      "--initial-cluster",
      absl::StrCat(member.name, "=", PeerUrl(member)),
      "--initial-advertise-peer-urls",
      PeerUrl(member),
      "--initial-cluster-token",
      "snowflake-test"};
  absl::StatusOr<std::string> out =
      RunTool(argv, absl::StrCat(dir_, "/restore.out"));
  if (!out.ok()) return out.status();
  if (absl::Status status = Spawn(member); !status.ok()) return status;
  return WaitHealthy(0);
}

std::string EtcdLauncher::LogTail(int i, int lines) const {
  return snowflake::testing::LogTail(members_.at(i).log_file, lines);
}

}  // namespace snowflake::testing
