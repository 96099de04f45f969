#include "testing/zookeeper_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
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
constexpr milliseconds kStopGrace{3000};
// Between two readiness probes.
constexpr milliseconds kProbeInterval{100};
// The longest a four-letter word may take. A server asked too early (before
// its database is loaded) may never answer: ZooKeeper 3.8 then fails
// closing the socket (a NullPointerException in its log).
constexpr milliseconds kFourLetterWordTimeout{1000};

// The first `dirs`/`name` that exists, or empty.
std::string FindJar(const std::vector<std::string>& dirs,
                    const std::string& name) {
  for (const std::string& dir : dirs) {
    std::string path = absl::StrCat(dir, "/", name);
    if (::access(path.c_str(), R_OK) == 0) return path;
  }
  return "";
}

// The environment without variables that would add JVM flags behind the
// launcher's back.
std::vector<std::string> JvmEnvironment() {
  return EnvironmentWithout(
      {"JAVA_TOOL_OPTIONS=", "_JAVA_OPTIONS=", "JDK_JAVA_OPTIONS="});
}

// Waits until `fd` is ready for `events` or `deadline`; false on timeout.
bool PollUntil(int fd, int events, steady_clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(
        deadline - steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, static_cast<int16_t>(events), 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Sends `word` to 127.0.0.1:`port` and reads the answer to EOF.
absl::StatusOr<std::string> AskFourLetterWord(int port,
                                              const std::string& word) {
  const auto deadline = steady_clock::now() + kFourLetterWordTimeout;
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(ErrnoText("socket"));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  absl::Status status;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
          0 &&
      errno != EINPROGRESS) {
    status = absl::UnavailableError(ErrnoText("connect"));
  } else if (!PollUntil(fd, POLLOUT, deadline)) {
    status = absl::UnavailableError("connect timed out");
  } else if (::send(fd, word.data(), word.size(), MSG_NOSIGNAL) !=
             static_cast<ssize_t>(word.size())) {
    status = absl::UnavailableError(ErrnoText("send"));
  } else {
    while (true) {
      if (!PollUntil(fd, POLLIN, deadline)) {
        status = absl::UnavailableError("no complete answer within 1 s");
        break;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        status = absl::UnavailableError(ErrnoText("recv"));
        break;
      }
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "ZooKeeper at 127.0.0.1:", port, " ", word, ": ", status.message()));
  }
  return answer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZooKeeperLauncher>> ZooKeeperLauncher::Start(
    ZooKeeperLauncherOptions options) {
  if (options.members < 1 || options.tick.count() < 1) {
    return absl::InvalidArgumentError(
        "ZooKeeper launcher: members and tick must be >= 1");
  }
  const std::string java = ResolveBinary(options.java_binary);
  if (java.empty()) {
    return absl::NotFoundError(
        absl::StrCat("ZooKeeper launcher: no ", options.java_binary,
                     " (install Debian's zookeeper, which brings a JRE)"));
  }
  const std::string zookeeper_jar = FindJar(options.jar_dirs, "zookeeper.jar");
  if (zookeeper_jar.empty()) {
    return absl::NotFoundError(
        absl::StrCat("ZooKeeper launcher: no zookeeper.jar in ",
                     absl::StrJoin(options.jar_dirs, ", "),
                     " (install Debian's zookeeper)"));
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                   "/snowflake-zookeeper-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(ErrnoText("mkdtemp"));
  }
  options.java_binary = java;
  const int members = options.members;
  std::unique_ptr<ZooKeeperLauncher> launcher(
      new ZooKeeperLauncher(std::move(options), pattern));
  // zookeeper.jar's manifest names its dependencies; slf4j-simple gives the
  // server a log (without a binding, slf4j drops every line).
  launcher->class_path_ = zookeeper_jar;
  const std::string slf4j_simple =
      FindJar(launcher->options_.jar_dirs, "slf4j-simple.jar");
  if (!slf4j_simple.empty()) {
    absl::StrAppend(&launcher->class_path_, ":", slf4j_simple);
  }

  absl::StatusOr<std::vector<int>> ports = FreePorts(3 * members);
  if (!ports.ok()) return ports.status();
  for (int i = 0; i < members; ++i) {
    Member member;
    member.id = i + 1;
    member.process =
        ServerProcess(absl::StrCat("ZooKeeper member ", i), kStopGrace);
    member.client_port = (*ports)[3 * static_cast<size_t>(i)];
    member.quorum_port = (*ports)[3 * static_cast<size_t>(i) + 1];
    member.election_port = (*ports)[3 * static_cast<size_t>(i) + 2];
    const std::string base = absl::StrCat(launcher->dir_, "/zk", member.id);
    member.data_dir = base + ".data";
    member.config_file = base + ".cfg";
    member.log_file = base + ".log";
    launcher->members_.push_back(std::move(member));
  }
  const auto start = steady_clock::now();
  for (Member& member : launcher->members_) {
    if (absl::Status status = launcher->WriteConfig(member); !status.ok()) {
      return status;
    }
    if (absl::Status status = launcher->Spawn(member); !status.ok()) {
      return status;
    }
  }
  for (int i = 0; i < members; ++i) {
    if (absl::Status status = launcher->WaitServing(i); !status.ok()) {
      return status;
    }
  }
  launcher->start_duration_ =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  return launcher;
}

ZooKeeperLauncher::ZooKeeperLauncher(ZooKeeperLauncherOptions options,
                                     std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

ZooKeeperLauncher::~ZooKeeperLauncher() {
  for (Member& member : members_) member.process.Stop();
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr && ::testing::Test::HasFailure()) {
    for (int i = 0; i < size(); ++i) {
      std::fprintf(stderr,
                   "---- tail of ZooKeeper member %d log (%s) ----\n%s\n", i,
                   members_[i].log_file.c_str(), LogTail(i).c_str());
    }
  }
  if (std::getenv("SNOWFLAKE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  } else {
    std::fprintf(stderr, "ZooKeeper launcher: kept %s\n", dir_.c_str());
  }
}

std::string ZooKeeperLauncher::ClientAddress(int i) const {
  return absl::StrCat("127.0.0.1:", members_.at(i).client_port);
}

std::string ZooKeeperLauncher::ConnectString(
    const std::vector<int>& members) const {
  std::vector<std::string> addresses;
  if (members.empty()) {
    for (int i = 0; i < size(); ++i) addresses.push_back(ClientAddress(i));
  } else {
    for (int i : members) addresses.push_back(ClientAddress(i));
  }
  return absl::StrJoin(addresses, ",");
}

pid_t ZooKeeperLauncher::pid(int i) const {
  return members_.at(i).process.pid();
}

absl::Status ZooKeeperLauncher::WriteConfig(const Member& member) const {
  std::error_code error;
  std::filesystem::create_directories(member.data_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat(member.data_dir, ": ", error.message()));
  }
  std::ofstream myid(absl::StrCat(member.data_dir, "/myid"));
  myid << member.id << "\n";
  std::ofstream config(member.config_file);
  // Keys ZooKeeper does not know itself (admin.enableServer,
  // 4lw.commands.whitelist) become "zookeeper."-prefixed system properties.
  config << "tickTime=" << options_.tick.count() << "\n"
         << "initLimit=" << options_.init_limit_ticks << "\n"
         << "syncLimit=" << options_.sync_limit_ticks << "\n"
         << "dataDir=" << member.data_dir << "\n"
         << "clientPort=" << member.client_port << "\n"
         << "clientPortAddress=127.0.0.1\n"
         << "maxSessionTimeout=" << options_.max_session_timeout.count() << "\n"
         << "admin.enableServer=false\n"
         << "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf\n";
  if (size() > 1) {
    for (const Member& m : members_) {
      config << "server." << m.id << "=127.0.0.1:" << m.quorum_port << ":"
             << m.election_port << "\n";
    }
  }
  config.flush();
  myid.flush();
  if (!config || !myid) {
    return absl::InternalError(
        absl::StrCat("cannot write ", member.config_file, " or its myid"));
  }
  return absl::OkStatus();
}

absl::Status ZooKeeperLauncher::Spawn(Member& member) {
  std::vector<std::string> argv = {options_.java_binary};
  argv.insert(argv.end(), options_.jvm_flags.begin(), options_.jvm_flags.end());
  argv.insert(argv.end(),
              {// Quick re-election after a member dies: QuorumCnxManager's
               // connect timeout, 5 s by default.
               "-Dzookeeper.cnxTimeout=1000",
               "-Dorg.slf4j.simpleLogger.showDateTime=true",
               "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS", "-cp",
               class_path_, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
               member.config_file});
  return member.process.Start(argv, member.log_file, JvmEnvironment());
}

absl::StatusOr<std::string> ZooKeeperLauncher::FourLetterWord(
    int i, const std::string& word) {
  return AskFourLetterWord(members_.at(i).client_port, word);
}

absl::StatusOr<std::string> ZooKeeperLauncher::Mode(int i) {
  absl::StatusOr<std::string> srvr = FourLetterWord(i, "srvr");
  if (!srvr.ok()) return srvr.status();
  const size_t at = srvr->find("Mode: ");
  if (at == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("ZooKeeper member ", i, " is not serving: ", *srvr));
  }
  const size_t begin = at + 6;
  const size_t end = srvr->find('\n', begin);
  return srvr->substr(begin, end == std::string::npos ? end : end - begin);
}

int ZooKeeperLauncher::FindMember(const std::string& mode) {
  for (int i = 0; i < size(); ++i) {
    absl::StatusOr<std::string> m = Mode(i);
    if (m.ok() && *m == mode) return i;
  }
  return -1;
}

absl::Status ZooKeeperLauncher::WaitServing(int i) {
  Member& member = members_.at(i);
  const auto deadline = steady_clock::now() + options_.start_timeout;
  std::string last_error;
  while (true) {
    if (!member.process.Running()) {
      return absl::UnavailableError(absl::StrCat(
          "ZooKeeper member ", i,
          " is not running (exited at start?); log tail:\n", LogTail(i)));
    }
    absl::StatusOr<std::string> mode = Mode(i);
    if (mode.ok()) return absl::OkStatus();
    last_error = mode.status().ToString();
    if (steady_clock::now() >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("ZooKeeper member ", i, " not serving within ",
                       options_.start_timeout.count(), " ms: ", last_error,
                       "\nlog tail:\n", LogTail(i)));
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
}

absl::Status ZooKeeperLauncher::Kill(int i) {
  return members_.at(i).process.Kill();
}

absl::Status ZooKeeperLauncher::Restart(int i, bool wait_serving) {
  Member& member = members_.at(i);
  member.process.Stop();
  if (absl::Status status = Spawn(member); !status.ok()) return status;
  return wait_serving ? WaitServing(i) : absl::OkStatus();
}

absl::Status ZooKeeperLauncher::Pause(int i) {
  return members_.at(i).process.Pause();
}

absl::Status ZooKeeperLauncher::Resume(int i) {
  return members_.at(i).process.Resume();
}

std::string ZooKeeperLauncher::LogTail(int i, int lines) const {
  return snowflake::testing::LogTail(members_.at(i).log_file, lines);
}

}  // namespace snowflake::testing
