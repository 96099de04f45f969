// Issue 8, restores: etcd restored from a snapshot taken before node A
// claimed worker 0, so A's claim and every HWM it wrote vanish; node B (its
// own state dir: no local floor helps) then claims worker 0. B's IDs must
// never repeat A's: with B's clock equal while A is still alive through
// the restore, with B's clock 500 ms behind (within the default skew bound)
// and A killed just before B starts, and with B's clock 5 s behind after
// the operator ran `snowflake cluster fence-restore`.
//
// The snapshot precedes A's claim (a predecessor Z gives worker 0 its
// history first): a snapshot holding A's own lease would give A the ID back
// with it. A stays alive through the restore and is killed only just
// before B starts, because a restore takes longer than 500 ms: with A
// killed first, a clock lag within the bound could not reach A's ticks.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/hazard_fixture.h"

namespace snowflake::testing {
namespace {

constexpr int kTtl = 3;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
constexpr char kCluster[] = "restore";
// The outage budget (seconds) of every node here, set through its
// environment variable, and given to fence-restore: short, so that a
// successor does not wait the default minute.
constexpr char kBudgetSeconds[] = "8";

struct RestoreCase {
  std::string b_clock;   // FAKETIME offset of B's wall clock; "" none.
  bool kill_a_before_b;  // Else A runs on while B serves.
  bool fence_restore;    // Run the CLI's fence-restore after the restore.
  std::vector<std::pair<std::string, std::string>> env;  // Every node's.
};

void RunRestore(const RestoreCase& c) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, kCluster);

  // Worker 0 gets a history: Z holds it and stops.
  auto z = scenario.Start({"z", "0-0", kTtl, {}, c.env});
  ASSERT_TRUE(z->ready()) << z->Log();
  EXPECT_EQ(TakeIds(scenario, z->port(), 1000).first, 200);
  StopNode(*z);
  const std::string snapshot = etcd->dir() + "/before-a.db";
  ASSERT_TRUE(etcd->SaveSnapshot(snapshot).ok());

  auto a = scenario.Start({"a", "0-0", kTtl, {}, c.env});
  ASSERT_TRUE(a->ready()) << a->Log();
  ASSERT_EQ(InfoWorkerId(a->port()), 0);
  Load a_load(scenario, a->port(), 100, milliseconds(2), milliseconds(5000));
  std::this_thread::sleep_for(std::chrono::seconds(5));

  ASSERT_TRUE(etcd->RestoreFromSnapshot(snapshot).ok());
  std::printf("restored at %lld\n", static_cast<long long>(WallMillis()));
  if (c.fence_restore) {
    std::string command = SnowflakeCliBinary() +
                          " cluster fence-restore --etcd " +
                          JoinUrls(etcd->ClientUrls()) + " --cluster " +
                          kCluster + " --outage-budget " + kBudgetSeconds +
                          " > " + etcd->dir() + "/fence.out 2>&1";
    const int rc = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << command << "\n"
        << ReadText(etcd->dir() + "/fence.out");
  }
  if (c.kill_a_before_b) a->Signal(SIGKILL);

  std::vector<std::pair<std::string, std::string>> b_env = c.env;
  if (!c.b_clock.empty()) {
    for (auto& kv : ShiftedWallClock(c.b_clock)) b_env.push_back(kv);
  }
  auto b =
      scenario.StartOnce({"b", "0-0", kTtl, {}, b_env},
                         std::chrono::seconds(c.kill_a_before_b ? 100 : 8));
  if (!b->ready() && !b->running() &&
      b->Log().find("no free worker ID") != std::string::npos) {
    // A took worker 0 back after the restore and was killed holding it:
    // its claim lapses with its TTL.
    std::this_thread::sleep_for(std::chrono::seconds(kTtl + 1));
    b = scenario.StartOnce({"b", "0-0", kTtl, {}, b_env},
                           std::chrono::seconds(100));
  }
  if (!b->ready() && b->running() && a->running()) {
    // A, alive, fenced and took worker 0 back before B could: B waits for
    // a free ID. A stops (and gives the ID up) so that B gets it.
    std::printf("b waits for worker 0; stopping a\n");
    a_load.Stop();
    StopNode(*a);
    EXPECT_TRUE(Eventually(
        [&] { return b->Log().find("event=ready") != std::string::npos; },
        std::chrono::seconds(60)));
  }
  const int b_port = b->ready() ? b->port() : ListeningPort(b->Log());
  ASSERT_TRUE(b->running() && b_port != 0) << b->Log();
  ASSERT_EQ(InfoWorkerId(b_port), 0);
  Load b_load(scenario, b_port, 100, milliseconds(2), milliseconds(5000));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  b_load.Stop();
  a_load.Stop();

  const std::vector<uint64_t> a_ids = AllIds(a_load);
  const std::vector<uint64_t> b_ids = AllIds(b_load);
  ASSERT_FALSE(a_ids.empty());
  ASSERT_FALSE(b_ids.empty()) << b->Log();
  const uint64_t b_min = *std::min_element(b_ids.begin(), b_ids.end());
  size_t a_above = 0;
  for (uint64_t id : a_ids) {
    a_above += scenario.WorkerOf(id) == 0 && id >= b_min;
  }
  EXPECT_EQ(a_above, 0u) << "node a issued " << a_above
                         << " IDs under worker 0 at or above B's first\n"
                         << "---- a ----\n"
                         << a->Log() << "---- b ----\n"
                         << b->Log();
  StopNode(*b);
  if (a->running()) StopNode(*a);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

const std::pair<std::string, std::string> kBudget = {"SNOWFLAKE_OUTAGE_BUDGET",
                                                     kBudgetSeconds};

// (a) B's clock equal to A's; A alive through the restore and while B
// serves: A must stop once it sees etcd's lower revision.
TEST(EtcdRestoreTest, LiveHolderThroughRestoreEqualClocks) {
  RunRestore(
      {"", /*kill_a_before_b=*/false, /*fence_restore=*/false, {kBudget}});
}

// (b) B's clock 500 ms behind (within --max-clock-skew-ms 1000); A killed
// just before B starts.
TEST(EtcdRestoreTest, SuccessorClock500msBehind) {
  RunRestore(
      {"-0.5", /*kill_a_before_b=*/true, /*fence_restore=*/false, {kBudget}});
}

// (c) B's clock 5 s behind, beyond the skew bound: the operator runs
// `snowflake cluster fence-restore` after the restore, before B starts.
TEST(EtcdRestoreTest, SuccessorClock5sBehindAfterFenceRestore) {
  RunRestore(
      {"-5", /*kill_a_before_b=*/true, /*fence_restore=*/true, {kBudget}});
}

}  // namespace
}  // namespace snowflake::testing
