// Issue 8, misconfiguration is refused, not duplicated: two static nodes on
// one state directory, static nodes on the default worker ID, settings that
// cannot be safe (one-line error naming the setting, exit code 2), and a
// region map that disagrees with the one stored for the cluster. Issue 9: a
// node started with an epoch in the future says so and leaves a state
// directory that works once the epoch is fixed (point 6), and both tools
// take the same layout spellings (point 18). Issue 10: settings a
// coordinator refuses at start (another layout; on ZooKeeper a missing
// chroot or another user's credentials) exit with code 2, naming them.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/hazard_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A static node with exactly `args` (no --worker-id unless given).
std::unique_ptr<DaemonProcess> StartStatic(const std::string& log_path,
                                           std::vector<std::string> args) {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--threads", "2"};
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.log_path = log_path;
  options.ready_timeout = std::chrono::seconds(10);
  return DaemonProcess::Start(options);
}

// The lines of `log` holding every one of `words`.
std::vector<std::string> LinesWith(const std::string& log,
                                   const std::vector<std::string>& words) {
  std::vector<std::string> found;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    bool all = true;
    for (const std::string& word : words) {
      all = all && line.find(word) != std::string::npos;
    }
    if (all) found.push_back(line);
  }
  return found;
}

// 1. Two static nodes on one state directory: the second refuses to start,
// naming the directory; the first keeps serving.
TEST(MisconfigTest, SecondNodeOnOneStateDirRefuses) {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  auto first = StartStatic(dir.path() + "/first.log",
                           {"--state-dir", state, "--worker-id", "5"});
  ASSERT_TRUE(first->ready()) << first->Log();
  auto second = StartStatic(dir.path() + "/second.log",
                            {"--state-dir", state, "--worker-id", "6"});
  const std::optional<int> code = second->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value())
      << "a second node runs on the same state directory\n"
      << second->Log();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(second->Log(), HasSubstr(state));
  EXPECT_EQ(Status(first->port(), "/v1/id"), 200);
  StopNode(*first);
}

// 2. Static nodes on the default worker ID warn that only one may run.
TEST(MisconfigTest, DefaultWorkerIdWarnsOnlyOneMayRun) {
  TempDir dir;
  std::vector<std::unique_ptr<DaemonProcess>> nodes;
  for (const char* name : {"one", "two"}) {
    nodes.push_back(StartStatic(dir.path() + "/" + name + ".log",
                                {"--state-dir", dir.path() + "/" + name}));
    ASSERT_TRUE(nodes.back()->ready()) << nodes.back()->Log();
  }
  for (auto& node : nodes) {
    EXPECT_FALSE(LinesWith(node->Log(), {"warn", "worker", "only one"}).empty())
        << "no warning naming the worker ID and that only one may run:\n"
        << node->Log();
    StopNode(*node);
  }
}

// 3. Settings that cannot be safe: exit code 2 and one line naming the
// setting.
TEST(MisconfigTest, UnsafeSettingsExitWithCode2) {
  TempDir dir;
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string names;  // The setting the message must name.
  };
  const std::vector<std::string> etcd = {"--coordinator", "etcd", "--cluster",
                                         "c"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), etcd.begin(), etcd.end());
    return args;
  };
  const std::vector<Case> cases = {
      {"budget-0",
       with({"--etcd-endpoints", "http://127.0.0.1:1", "--outage-budget", "0"}),
       "outage"},
      // The default layout's time range is 69.7 years (2.2e9 s).
      {"budget-above-range",
       with({"--etcd-endpoints", "http://127.0.0.1:1", "--outage-budget",
             "3000000000"}),
       "outage"},
      {"overlapping-regions",
       with({"--etcd-endpoints", "http://127.0.0.1:1", "--regions",
             "us=0-500,eu=400-1023", "--region", "us"}),
       "region"},
      {"region-missing",
       with({"--etcd-endpoints", "http://127.0.0.1:1", "--regions",
             "us=0-500,eu=501-1023", "--region", "ap"}),
       "ap"},
      {"endpoints-empty", with({"--etcd-endpoints", ""}), "endpoints"},
      {"endpoints-malformed", with({"--etcd-endpoints", "http://"}),
       "endpoints"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--state-dir", dir.path() + "/" + c.name});
    auto node = StartStatic(dir.path() + "/" + c.name + ".log", args);
    const std::optional<int> code = node->Wait(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value()) << c.name << " runs:\n" << node->Log();
    EXPECT_EQ(*code, 2) << c.name << ":\n" << node->Log();
    const std::vector<std::string> lines = LinesWith(node->Log(), {""});
    size_t non_empty = 0;
    for (const std::string& line : lines) non_empty += !line.empty();
    EXPECT_EQ(non_empty, 1u) << c.name << ":\n" << node->Log();
    EXPECT_THAT(node->Log(), HasSubstr(c.names)) << c.name;
    // Refused for what the value means, not as an unknown flag.
    EXPECT_THAT(node->Log(), Not(HasSubstr("not expected"))) << c.name;
  }
}

// 4. A node whose region map disagrees with the one stored for the cluster
// refuses to start, naming both maps.
TEST(MisconfigTest, RegionMapDisagreeingWithClusterRefuses) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "regions");
  auto first =
      scenario.Start({"first",
                      "",
                      2,
                      {"--regions", "us=0-511,eu=512-1023", "--region", "us"}});
  ASSERT_TRUE(first->ready()) << first->Log();
  auto other = scenario.StartOnce(
      {"other", "", 2, {"--regions", "us=0-255,eu=256-1023", "--region", "us"}},
      std::chrono::seconds(15));
  EXPECT_FALSE(other->ready());
  const std::optional<int> code = other->Wait(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << other->Log();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(other->Log(), AllOf(HasSubstr("0-511"), HasSubstr("0-255")));
  EXPECT_EQ(Status(first->port(), "/v1/id"), 200);
  StopNode(*first);
}

// 5. Switching a node from static to etcd mode keeps its floor: a static
// node on worker 0 is killed (its HWM file a reserve ahead), and the same
// state directory comes back in etcd mode, on a fresh etcd that has never
// heard of worker 0, with the clock 3 s behind. It must wait past the local
// floor rather than reissue the static node's last ticks. The first start
// on an empty state directory says so; the second does not.
TEST(MisconfigTest, ModeSwitchKeepsTheLocalFloor) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "switch");
  const std::string state = scenario.dir() + "/switch";
  auto static_node = StartStatic(
      scenario.dir() + "/static.log",
      {"--state-dir", state, "--worker-id", "0", "--hwm-reserve-ms", "5000"});
  ASSERT_TRUE(static_node->ready()) << static_node->Log();
  EXPECT_FALSE(LinesWith(static_node->Log(), {"event=state_dir_empty"}).empty())
      << static_node->Log();
  std::vector<uint64_t> before;
  for (int i = 0; i < 20; ++i) {
    auto [status, ids] = TakeIds(scenario, static_node->port(), 4096);
    ASSERT_EQ(status, 200);
    before.insert(before.end(), ids.begin(), ids.end());
  }
  static_node->Signal(SIGKILL);
  static_node->Wait(std::chrono::seconds(5));

  auto etcd_node =
      scenario.StartOnce({"switch", "0-0", 2, {}, ShiftedWallClock("-3")},
                         std::chrono::seconds(30));
  ASSERT_TRUE(etcd_node->ready()) << etcd_node->Log();
  EXPECT_TRUE(LinesWith(etcd_node->Log(), {"event=state_dir_empty"}).empty())
      << etcd_node->Log();
  auto [status, after] = TakeIds(scenario, etcd_node->port(), 4096);
  ASSERT_EQ(status, 200);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(scenario.WorkerOf(after.front()), 0);
  EXPECT_GT(*std::min_element(after.begin(), after.end()),
            *std::max_element(before.begin(), before.end()))
      << "the etcd-mode node went below the static node's IDs\n"
      << etcd_node->Log();
  StopNode(*etcd_node);
  scenario.ExpectAllUnique();
}

// 6. Issue 9 point 6: an epoch in the future passes every setting's check.
// The node runs (never ready) and logs why; it stores no high-water mark at
// the far epoch, so with the epoch fixed it starts at once on the same state
// directory.
TEST(MisconfigTest, FutureEpochIsLoggedAndLeavesTheStateDirUsable) {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  auto future = StartStatic(dir.path() + "/future.log",
                            {"--state-dir", state, "--worker-id", "5",
                             "--epoch", "2099-01-01T00:00:00Z"});
  ASSERT_TRUE(future->running()) << future->Log();
  EXPECT_FALSE(
      LinesWith(future->Log(), {"event=layout_cannot_issue",
                                "2099-01-01T00:00:00.000Z", "in the future"})
          .empty())
      << future->Log();
  ASSERT_GT(future->port(), 0) << future->Log();
  EXPECT_EQ(Status(future->port(), "/readyz"), 503);
  EXPECT_NE(Status(future->port(), "/v1/id"), 200);
  StopNode(*future);

  auto fixed = StartStatic(dir.path() + "/fixed.log",
                           {"--state-dir", state, "--worker-id", "5",
                            "--max-start-wait-ms", "1000"});
  ASSERT_TRUE(fixed->ready()) << fixed->Log();
  EXPECT_EQ(Status(fixed->port(), "/v1/id"), 200);
  EXPECT_EQ(Status(fixed->port(), "/readyz"), 200);
  StopNode(*fixed);
}

// 7. Issue 9 point 18: `snowflaked --layout js53` and `snowflake layout
// --layout js53` name the same layout: one spelling for presets.
TEST(MisconfigTest, BothToolsTakeTheSameLayoutSpellings) {
  TempDir dir;
  for (const std::string name : {"js53", "twitter", "39/12/12"}) {
    auto check = StartStatic(dir.path() + "/check.log",
                             {"--check-config", "--layout", name});
    ASSERT_EQ(check->Wait(std::chrono::seconds(10)), 0) << check->Log();
    const std::string out = dir.path() + "/cli.out";
    std::string command = SnowflakeCliBinary();
    command.append(" layout --json --layout ")
        .append(name)
        .append(" > ")
        .append(out)
        .append(" 2> ")
        .append(out)
        .append(".err");
    const int rc = std::system(command.c_str());
    auto read = [](const std::string& path) {
      std::ifstream in(path);
      return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    const std::string text = read(out);
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << command << "\n"
        << text << read(out + ".err");
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(json.is_object()) << text;
    const std::string widths =
        std::to_string(json["time_bits"].get<int>()) + "/" +
        std::to_string(json["worker_bits"].get<int>()) + "/" +
        std::to_string(json["sequence_bits"].get<int>());
    EXPECT_THAT(check->Log(), HasSubstr(widths)) << name;
    EXPECT_THAT(
        check->Log(),
        HasSubstr("epoch=" + std::to_string(json["epoch_ms"].get<int64_t>())))
        << name;
  }
}

// 8. What the coordinator refuses at start is a configuration error: exit
// code 2 and one line naming the setting to fix, on either coordinator.
class CoordinatorMisconfigTest
    : public ::testing::TestWithParam<CoordinatorKind> {};

INSTANTIATE_TEST_SUITE_P(
    Coordinators, CoordinatorMisconfigTest,
    ::testing::Values(CoordinatorKind::kEtcd, CoordinatorKind::kZooKeeper),
    [](const ::testing::TestParamInfo<CoordinatorKind>& info) {
      return KindName(info.param);
    });

// Starts a node that must refuse; its exit code and log.
std::pair<std::optional<int>, std::string> Refusal(Scenario& scenario,
                                                   const NodeSpec& spec) {
  std::unique_ptr<DaemonProcess> node =
      scenario.StartOnce(spec, std::chrono::seconds(15));
  EXPECT_FALSE(node->ready());
  const std::optional<int> code = node->Wait(std::chrono::seconds(15));
  return {code, node->Log()};
}

TEST_P(CoordinatorMisconfigTest, AnotherLayoutExitsWithCode2) {
  std::unique_ptr<CoordinatorBackend> coordinator =
      CoordinatorBackend::Start(GetParam(), 1);
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "layout");
  auto first = scenario.Start({"first"});
  ASSERT_TRUE(first->ready()) << first->Log();
  const auto [code, log] =
      Refusal(scenario, {"other", "", 2, {"--layout", "40/10/13"}});
  EXPECT_EQ(code, 2) << log;
  EXPECT_THAT(log, AllOf(HasSubstr("event=start_failed"), HasSubstr("40/10/13"),
                         HasSubstr("fix --layout")));
  StopNode(*first);
}

TEST(ZooKeeperMisconfigTest, MissingChrootAndForeignCredentialsExitWithCode2) {
  std::unique_ptr<CoordinatorBackend> coordinator =
      CoordinatorBackend::Start(CoordinatorKind::kZooKeeper, 1);
  ASSERT_NE(coordinator, nullptr);
  const CoordinatorFlags base = coordinator->NodeFlags();
  // The same flags with `extra` after them and `suffix` on the hosts.
  auto with = [base](const std::string& suffix,
                     const std::vector<std::string>& extra) {
    return CoordinatorFlags([=](int ttl_seconds) {
      std::vector<std::string> flags = base(ttl_seconds);
      auto hosts = std::find(flags.begin(), flags.end(), "--zookeeper-hosts");
      if (hosts != flags.end()) *(hosts + 1) += suffix;
      flags.insert(flags.end(), extra.begin(), extra.end());
      return flags;
    });
  };

  Scenario chroot(with("/missing", {}), "chroot");
  auto [code, log] = Refusal(chroot, {"a"});
  EXPECT_EQ(code, 2) << log;
  EXPECT_THAT(log, AllOf(HasSubstr("chroot /missing does not exist"),
                         HasSubstr("--zookeeper-hosts")));

  Scenario owner(with("", {"--zookeeper-auth", "alice:secret"}), "owned");
  auto alice = owner.Start({"alice"});
  ASSERT_TRUE(alice->ready()) << alice->Log();
  Scenario stranger(with("", {"--zookeeper-auth", "mallory:guess"}), "owned");
  std::tie(code, log) = Refusal(stranger, {"mallory"});
  EXPECT_EQ(code, 2) << log;
  EXPECT_THAT(log, AllOf(HasSubstr("PERMISSION_DENIED"),
                         HasSubstr("--zookeeper-auth")));
  EXPECT_THAT(log, Not(HasSubstr("guess")));  // The secret stays out.
  StopNode(*alice);
}

}  // namespace
}  // namespace snowflake::testing
