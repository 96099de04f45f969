// Worker-ID leases end to end, one suite over both coordinators (issue 10):
// every scenario runs against real etcd and a real ZooKeeper ensemble
// (testing/coordinator_backend.h), with real snowflaked processes and short
// session lifetimes (etcd lease TTL, ZooKeeper session timeout): three nodes
// and a full range, a kill -9, a node frozen past its session, SIGTERM, one
// member then the quorum lost, the whole ensemble down and back, a session
// ended by the server and a claim deleted by hand. Every ID any node hands
// out in a scenario is recorded and checked for repeats at its end.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "testing/coordinator_backend.h"
#include "tests/integration/hazard_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kOneSecond = std::chrono::seconds(1);

// A node serves again: ready, an ID, and its coordinator up.
bool Serving(int port) {
  return Status(port, "/readyz") == 200 && Status(port, "/v1/id") == 200 &&
         Metric(port, "snowflake_coordinator_up") == 1;
}

class CoordinatorTest : public ::testing::TestWithParam<CoordinatorKind> {
 protected:
  // Null, with a test failure, if the coordinator did not come up.
  std::unique_ptr<CoordinatorBackend> StartCoordinator(int members = 1) {
    return CoordinatorBackend::Start(GetParam(), members);
  }
};

// 1. Three nodes started at once hold three distinct worker IDs; with a
// range of two IDs, the third of three exits naming the range.
TEST_P(CoordinatorTest, ThreeNodesGetDistinctIdsAndAFullRangeRefuses) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "three");

  auto nodes = scenario.StartAll({{"a"}, {"b"}, {"c"}});
  std::set<int64_t> workers;
  std::set<std::string> holders;
  for (auto& node : nodes) {
    ASSERT_TRUE(node->ready()) << node->Log();
    const std::vector<uint64_t> ids = TakeSome(scenario, *node);
    const int64_t worker = OnlyWorker(scenario, ids);
    EXPECT_GE(worker, 0) << "a node issued under several worker IDs";
    EXPECT_EQ(InfoWorkerId(node->port()), worker);
    EXPECT_EQ(Metric(node->port(), "snowflake_worker_id"), worker);
    EXPECT_EQ(Metric(node->port(), "snowflake_coordinator_up"), 1);
    EXPECT_GT(
        Metric(node->port(), "snowflake_lease_time_left_seconds").value_or(0),
        0);
    absl::StatusOr<std::optional<ClaimInfo>> claim =
        coordinator->ReadClaim("three", worker);
    ASSERT_TRUE(claim.ok()) << claim.status();
    ASSERT_TRUE(claim->has_value()) << "no claim on worker " << worker;
    EXPECT_NE((*claim)->session, 0);
    holders.insert((*claim)->node);
    workers.insert(worker);
  }
  EXPECT_EQ(workers.size(), 3u);
  EXPECT_THAT(holders, ::testing::ElementsAre("a", "b", "c"));
  absl::StatusOr<size_t> claims = coordinator->ClaimCount("three");
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(*claims, 3u);
  if (GetParam() == CoordinatorKind::kEtcd) {
    EXPECT_EQ(coordinator->DiscoveryCount("three"), 3u);
  }

  // Two IDs, three nodes racing for them: the loser waits for a free ID
  // (not ready) until its --start-timeout, then exits saying why.
  Scenario small(coordinator->NodeFlags(), "small");
  const std::vector<std::string> give_up = {"--start-timeout", "2"};
  auto racers = small.StartAll({{"x", "0-1", 2, give_up},
                                {"y", "0-1", 2, give_up},
                                {"z", "0-1", 2, give_up}});
  int ready = 0;
  for (auto& node : racers) {
    if (node->ready()) {
      ++ready;
      TakeSome(small, *node, 2);
      continue;
    }
    const std::optional<int> code = node->Wait(std::chrono::seconds(15));
    ASSERT_TRUE(code.has_value()) << node->Log();
    EXPECT_NE(*code, 0);
    EXPECT_THAT(node->Log(), HasSubstr("no free worker ID in range 0-1"));
  }
  EXPECT_EQ(ready, 2);

  for (auto& node : nodes) StopNode(*node);
  for (auto& node : racers) {
    if (node->running()) StopNode(*node);
  }
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
  EXPECT_GT(small.ExpectAllUnique(), 0u);
}

// 2. After kill -9, the claim outlives the node by about the session's
// lifetime; a restarted node gets an ID and issues only past the stored
// HWM.
// --workers: a node holds several worker IDs, each claimed on its own (in
// the node's name) and each issued from; a range with fewer free IDs than
// asked leaves it serving with what it holds, saying so, and it claims the
// rest once they are free.
TEST_P(CoordinatorTest, NodeWithSeveralWorkersHoldsEachOrFewerWhenShort) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "multi");
  const std::vector<std::string> two = {"--workers", "2"};
  std::unique_ptr<DaemonProcess> a = scenario.Start({"a", "0-2", 2, two});
  ASSERT_TRUE(a->ready()) << a->Log();
  const nlohmann::json info = Info(a->port());
  std::set<int64_t> held;
  for (const auto& id : info["worker_ids"]) held.insert(id.get<int64_t>());
  ASSERT_EQ(held.size(), 2u) << info.dump();
  for (int64_t worker : held) {
    absl::StatusOr<std::optional<ClaimInfo>> claim =
        coordinator->ReadClaim("multi", worker);
    ASSERT_TRUE(claim.ok()) << claim.status();
    ASSERT_TRUE(claim->has_value()) << "no claim on worker " << worker;
    EXPECT_EQ((*claim)->node, "a");
  }
  // Each connection is dealt to the next I/O thread, and each I/O thread
  // issues from its own worker: both IDs issue.
  std::set<int64_t> issued_under;
  for (uint64_t id : TakeSome(scenario, *a, 8)) {
    issued_under.insert(scenario.WorkerOf(id));
  }
  EXPECT_EQ(issued_under, held);
  EXPECT_EQ(Metric(a->port(), "snowflake_workers_held"), 2);

  // One ID left for a node that wants two: it serves with one.
  std::unique_ptr<DaemonProcess> b = scenario.Start({"b", "0-2", 2, two});
  ASSERT_TRUE(b->ready()) << b->Log();
  EXPECT_THAT(b->Log(), HasSubstr("event=workers_short held=1 wanted=2"));
  EXPECT_EQ(Info(b->port())["worker_ids"].size(), 1u);
  EXPECT_EQ(Metric(b->port(), "snowflake_workers_wanted"), 2);
  EXPECT_EQ(Metric(b->port(), "snowflake_workers_held"), 1);
  for (uint64_t id : TakeSome(scenario, *b, 4)) {
    EXPECT_FALSE(held.contains(scenario.WorkerOf(id)))
        << "b issued under a's worker " << scenario.WorkerOf(id);
  }

  // a stops and gives its IDs back: b claims its second.
  a->Signal(SIGTERM);
  ASSERT_EQ(a->Wait(std::chrono::seconds(10)), 0) << a->Log();
  EXPECT_TRUE(Eventually(
      [&] {
        return Metric(b->port(), "snowflake_workers_held").value_or(0) == 2;
      },
      std::chrono::seconds(20)))
      << b->Log();
  std::set<int64_t> b_under;
  for (uint64_t id : TakeSome(scenario, *b, 8)) {
    b_under.insert(scenario.WorkerOf(id));
  }
  EXPECT_EQ(b_under.size(), 2u);
  scenario.ExpectAllUnique();
}

TEST_P(CoordinatorTest, KilledNodesIdIsFreeAfterTtlAndRestartWaitsPastHwm) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "crash");
  constexpr int kTtl = 2;
  // A 2 s outage budget: the restarted node's own ID is then the one it
  // can start soonest on.
  const NodeSpec spec{
      "a",
      "4-5",
      kTtl,
      {"--outage-budget", "2", "--hwm-write-interval-ms", "500"}};

  auto first = scenario.Start(spec);
  ASSERT_TRUE(first->ready()) << first->Log();
  std::vector<uint64_t> before;
  {
    Load load(scenario, first->port());
    std::this_thread::sleep_for(milliseconds(700));
    first->Signal(SIGKILL);
    const auto killed = SteadyClock::now();
    first->Wait(std::chrono::seconds(5));
    load.Stop();
    for (const LoadReply& r : load.Replies()) {
      before.insert(before.end(), r.ids.begin(), r.ids.end());
    }
    ASSERT_FALSE(before.empty());
    const int64_t worker = OnlyWorker(scenario, before);
    ASSERT_GE(worker, 4);

    // The claim stays until the coordinator ends the session: not much
    // before its lifetime (the last keep-alive went out up to a third of it
    // before the kill) and not much after it.
    EXPECT_TRUE(ClaimHeld(*coordinator, "crash", worker));
    ASSERT_TRUE(
        Eventually([&] { return ClaimFree(*coordinator, "crash", worker); },
                   std::chrono::seconds(kTtl + 5)));
    const milliseconds freed_after = Since(killed);
    EXPECT_GE(freed_after, milliseconds(kTtl * 1000 * 2 / 3 - 300));
    EXPECT_LE(freed_after, milliseconds(kTtl * 1000 + 2500));
    std::printf("claim freed %lld ms after the kill\n",
                static_cast<long long>(freed_after.count()));
  }
  const int64_t worker = OnlyWorker(scenario, before);
  const std::optional<int64_t> hwm = HwmOf(*coordinator, "crash", worker);
  ASSERT_TRUE(hwm.has_value());
  EXPECT_GT(*hwm, scenario.MillisOf(Max(before)));

  // Same state dir: the identity file makes it prefer the same worker ID.
  const int64_t launched_at = WallMillis();
  auto second = scenario.Start(spec);
  ASSERT_TRUE(second->ready()) << second->Log();
  const std::vector<uint64_t> after = TakeSome(scenario, *second);
  EXPECT_EQ(OnlyWorker(scenario, after), worker) << second->Log();
  EXPECT_GE(scenario.MillisOf(Min(after)), *hwm);
  EXPECT_GT(Min(after), Max(before));
  std::printf("HWM %lld ms ahead at the restart; the node waited %lld ms\n",
              static_cast<long long>(*hwm - launched_at),
              static_cast<long long>(
                  LogNumber(second->Log(), "start_wait_ms").value_or(-1)));
  if (*hwm - launched_at > 300) {
    EXPECT_GE(LogNumber(second->Log(), "start_wait_ms").value_or(0),
              *hwm - launched_at - 300)
        << second->Log();
  }
  StopNode(*second);
  scenario.ExpectAllUnique();
}

// 3. A node frozen (SIGSTOP) past its session, with requests in flight,
// loses its ID to another node; once it wakes it hands out nothing under
// the old worker ID stamped after it froze, nothing at or above the new
// holder's first ID, and recovers under the other ID of its range. The new
// holder issues only above everything the frozen node issued.
TEST_P(CoordinatorTest, FrozenNodeNeverIssuesItsOldIdAfterWaking) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "pause");
  constexpr int kTtl = 2;
  const std::vector<std::string> budget = {"--outage-budget", "2",
                                           "--hwm-write-interval-ms", "500"};

  auto sleeper = scenario.Start({"sleeper", "6-7", kTtl, budget});
  ASSERT_TRUE(sleeper->ready()) << sleeper->Log();
  const int64_t old_worker = InfoWorkerId(sleeper->port());
  ASSERT_GE(old_worker, 6);
  const int64_t other_worker = old_worker == 6 ? 7 : 6;

  // One client pacing its requests, three back to back with long read
  // timeouts: requests are in flight when the node freezes.
  std::vector<std::unique_ptr<Load>> sleeper_loads;
  sleeper_loads.push_back(std::make_unique<Load>(scenario, sleeper->port()));
  for (int i = 0; i < 3; ++i) {
    sleeper_loads.push_back(std::make_unique<Load>(
        scenario, sleeper->port(), 100, milliseconds(0), milliseconds(30000)));
  }
  std::this_thread::sleep_for(milliseconds(700));
  const int64_t stopped_ms = WallMillis();
  sleeper->Signal(SIGSTOP);
  ASSERT_TRUE(
      Eventually([&] { return ClaimFree(*coordinator, "pause", old_worker); },
                 std::chrono::seconds(kTtl + 5)))
      << coordinator->name() << " never expired the frozen node's claim";

  // The thief may only take the sleeper's worker ID.
  const std::string only = std::to_string(old_worker);
  auto thief = scenario.Start({"thief", only + "-" + only, kTtl, budget});
  ASSERT_TRUE(thief->ready()) << thief->Log();
  Load thief_load(scenario, thief->port());
  std::this_thread::sleep_for(milliseconds(300));

  const auto woke_at = SteadyClock::now();
  sleeper->Signal(SIGCONT);
  const bool recovered = Eventually(
      [&] {
        return Status(sleeper->port(), "/readyz") == 200 &&
               InfoWorkerId(sleeper->port()) == other_worker;
      },
      std::chrono::seconds(15));
  std::this_thread::sleep_for(milliseconds(500));
  for (auto& load : sleeper_loads) load->Stop();
  thief_load.Stop();
  EXPECT_TRUE(recovered) << sleeper->Log();
  EXPECT_THAT(sleeper->Log(), HasSubstr("event=lease_lost"));

  std::vector<uint64_t> thief_ids;
  for (const LoadReply& r : thief_load.Replies()) {
    EXPECT_EQ(r.status, 200) << r.error;
    thief_ids.insert(thief_ids.end(), r.ids.begin(), r.ids.end());
  }
  ASSERT_FALSE(thief_ids.empty());
  EXPECT_EQ(OnlyWorker(scenario, thief_ids), old_worker);
  const uint64_t thief_min = Min(thief_ids);

  // A stamp after the freeze (plus the tick of an ID taken just before it)
  // was issued after waking.
  constexpr int64_t kClockToleranceMs = 20;
  std::vector<uint64_t> sleeper_old;
  size_t stale = 0;
  size_t at_or_above_thief = 0;
  size_t after_wake_ok = 0;
  size_t after_wake_refused = 0;
  for (auto& load : sleeper_loads) {
    for (const LoadReply& r : load->Replies()) {
      if (r.received >= woke_at) {
        after_wake_refused += r.status == 503;
        after_wake_ok +=
            r.status == 200 && OnlyWorker(scenario, r.ids) == other_worker;
      }
      for (uint64_t id : r.ids) {
        if (scenario.WorkerOf(id) != old_worker) continue;
        sleeper_old.push_back(id);
        stale += scenario.MillisOf(id) > stopped_ms + kClockToleranceMs;
        at_or_above_thief += id >= thief_min;
      }
    }
  }
  EXPECT_EQ(stale, 0u) << "IDs under the lost worker ID after waking\n"
                       << sleeper->Log();
  EXPECT_EQ(at_or_above_thief, 0u)
      << "the frozen node issued IDs under worker " << old_worker
      << " at or above the new holder's first\n"
      << sleeper->Log();
  EXPECT_GT(after_wake_ok, 0u) << "the sleeper never recovered";
  ASSERT_FALSE(sleeper_old.empty());
  // The thief waited past the sleeper's HWM.
  EXPECT_GT(thief_min, Max(sleeper_old));
  std::printf("after waking: %zu replies refused (503), %zu ok\n",
              after_wake_refused, after_wake_ok);

  StopNode(*sleeper);
  StopNode(*thief);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

// 4. SIGTERM ends the session: the claim is gone when the node exits, and
// the next node takes the ID long before the session could have run out
// (after its takeover wait: a third of the TTL, the margin and the clock
// skew bound).
TEST_P(CoordinatorTest, SigtermFreesTheIdAtOnce) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "term");
  constexpr int kTtl = 30;

  auto first = scenario.Start({"first", "8-8", kTtl});
  ASSERT_TRUE(first->ready()) << first->Log();
  const std::vector<uint64_t> before = TakeSome(scenario, *first);
  ASSERT_EQ(OnlyWorker(scenario, before), 8);
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(std::chrono::seconds(15)), 0) << first->Log();
  EXPECT_TRUE(ClaimFree(*coordinator, "term", 8));
  // The final HWM is the last issued tick + 1, not a reserve ahead.
  const std::optional<int64_t> hwm = HwmOf(*coordinator, "term", 8);
  ASSERT_TRUE(hwm.has_value());
  EXPECT_GT(*hwm, scenario.MillisOf(Max(before)));
  EXPECT_LE(*hwm, WallMillis() + 100);

  const auto launched = SteadyClock::now();
  auto second = scenario.Start({"second", "8-8", kTtl});
  ASSERT_TRUE(second->ready()) << second->Log();
  EXPECT_THAT(second->Log(), HasSubstr("event=takeover_wait worker_id=8"));
  EXPECT_LT(Since(launched), std::chrono::seconds(kTtl / 3 + 3 + 1 + 4));
  const std::vector<uint64_t> after = TakeSome(scenario, *second);
  EXPECT_EQ(OnlyWorker(scenario, after), 8);
  EXPECT_GT(Min(after), Max(before));
  StopNode(*second);
  EXPECT_TRUE(ClaimFree(*coordinator, "term", 8));
  scenario.ExpectAllUnique();
}

// 5. Under load on a 3-member ensemble: losing one member (the leader)
// fails no request; losing quorum lets nodes issue on their outage budget,
// past the session's deadline, and stop when their stored HWM runs out
// (503, not ready); with the members back the nodes serve again by
// themselves.
TEST_P(CoordinatorTest, EnsembleLosesMemberThenQuorumAndRecovers) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator(3);
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "quorum");
  // Losing the leader leaves the ensemble without one for a moment (etcd:
  // election timeout 1 s, randomized up to 2 s; ZooKeeper: an election and
  // the followers' sync), and renewals fail meanwhile. With a TTL of 5 s
  // the fencing deadline (4.5 s after the last renewal sent, at most TTL/3
  // before the kill) leaves room for that; 3 s would not.
  constexpr int kTtl = 5;
  // Longer than the lease deadline, so the nodes visibly outlive it.
  constexpr int kBudget = 12;
  const std::vector<std::string> budget = {"--outage-budget",
                                           std::to_string(kBudget),
                                           "--hwm-write-interval-ms", "500"};

  auto nodes =
      scenario.StartAll({{"n1", "", kTtl, budget}, {"n2", "", kTtl, budget}});
  for (auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();
  std::vector<std::unique_ptr<Load>> loads;
  loads.reserve(nodes.size());
  for (auto& node : nodes) {
    loads.push_back(std::make_unique<Load>(
        scenario, node->port(), 100, milliseconds(5), milliseconds(5000)));
  }
  std::this_thread::sleep_for(kOneSecond);

  // One member down, the leader if we can tell: every request succeeds.
  int first_down = coordinator->Leader();
  std::printf("killing %s member %d (%s)\n", coordinator->name().c_str(),
              std::max(first_down, 0),
              first_down < 0 ? "leader unknown" : "the leader");
  if (first_down < 0) first_down = 0;
  const auto one_down = SteadyClock::now();
  ASSERT_TRUE(coordinator->Kill(first_down).ok());
  std::this_thread::sleep_for(std::chrono::seconds(2 * kTtl));
  for (size_t i = 0; i < loads.size(); ++i) {
    const Window w =
        Summarize(*loads[i], one_down, SteadyClock::now(), one_down);
    EXPECT_EQ(w.failed, 0u)
        << "node " << i << " failed " << w.failed << " requests with one "
        << coordinator->name() << " member down, the first " << w.first_failure
        << "; the last " << w.last_failure << "\n"
        << nodes[i]->Log();
    EXPECT_GT(w.ok, 10u);
  }

  // Quorum lost: issuing goes on below the stored HWM, past the lease
  // deadline, until the mark runs out. A leader cut off from its followers
  // may still accept writes until it steps down (etcd's check-quorum,
  // within two election timeouts of 1 s; ZooKeeper's leader after
  // syncLimit ticks, 1 s here), so the last mark can come up to that much
  // after the loss.
  const int second_down = (first_down + 1) % 3;
  const auto no_quorum = SteadyClock::now();
  ASSERT_TRUE(coordinator->Kill(second_down).ok());
  constexpr auto kStepDown = milliseconds(2500);
  const auto fence_by = no_quorum + std::chrono::seconds(kBudget) + kStepDown;
  std::this_thread::sleep_until(no_quorum + std::chrono::seconds(kTtl) +
                                kStepDown);
  for (size_t i = 0; i < nodes.size(); ++i) {
    // Past the lease deadline, still issuing on the budget.
    EXPECT_EQ(Metric(nodes[i]->port(), "snowflake_lease_presumed_expired"), 1)
        << nodes[i]->Log();
    EXPECT_EQ(Status(nodes[i]->port(), "/readyz"), 200) << nodes[i]->Log();
  }
  std::this_thread::sleep_until(fence_by + milliseconds(200));
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(Status(nodes[i]->port(), "/readyz"), 503) << nodes[i]->Log();
    EXPECT_EQ(Metric(nodes[i]->port(), "snowflake_coordinator_up"), 0);
    EXPECT_EQ(Metric(nodes[i]->port(), "snowflake_lease_time_left_seconds"), 0);
    // Requests still went through right after the loss...
    EXPECT_GT(loads[i]->OkBetween(no_quorum, no_quorum + kOneSecond), 0u);
  }
  std::this_thread::sleep_for(kOneSecond);
  const auto restart_at = SteadyClock::now();
  for (size_t i = 0; i < loads.size(); ++i) {
    // ...until the node fenced itself: from its first refusal on, not one
    // ID while the ensemble had no quorum.
    std::optional<SteadyClock::time_point> first_refusal;
    for (const LoadReply& r : loads[i]->Replies()) {
      if (r.status == 503 && r.received > no_quorum) {
        first_refusal = r.received;
        break;
      }
    }
    ASSERT_TRUE(first_refusal.has_value()) << "node " << i << " never fenced";
    EXPECT_LE(*first_refusal, fence_by);
    EXPECT_GE(*first_refusal - no_quorum,
              std::chrono::seconds(kBudget) - milliseconds(1000))
        << "node " << i << " stopped before its outage budget ran out";
    EXPECT_EQ(loads[i]->OkBetween(*first_refusal, restart_at), 0u)
        << "node " << i << " issued IDs after fencing itself";
    std::printf("node %zu fenced %lld ms after quorum loss\n", i,
                static_cast<long long>(std::chrono::duration_cast<milliseconds>(
                                           *first_refusal - no_quorum)
                                           .count()));
  }

  ASSERT_TRUE(coordinator->Restart(first_down, /*wait=*/true).ok());
  ASSERT_TRUE(coordinator->Restart(second_down, /*wait=*/true).ok());
  const auto back = SteadyClock::now();
  for (auto& node : nodes) {
    EXPECT_TRUE(
        Eventually([&] { return Status(node->port(), "/readyz") == 200; },
                   std::chrono::seconds(20)))
        << node->Log();
  }
  std::printf("nodes ready %lld ms after the quorum came back\n",
              static_cast<long long>(Since(back).count()));
  const auto recovered = SteadyClock::now();
  std::this_thread::sleep_for(kOneSecond);
  for (auto& load : loads) {
    EXPECT_GT(load->OkBetween(recovered, SteadyClock::now()), 10u);
    load->Stop();
  }
  for (auto& node : nodes) {
    EXPECT_EQ(Metric(node->port(), "snowflake_coordinator_up"), 1);
    EXPECT_GT(Metric(node->port(), "snowflake_lease_renew_failures_total")
                  .value_or(0),
              0);
    StopNode(*node);
  }
  std::printf("quorum scenario: %zu IDs\n", scenario.ExpectAllUnique());
}

// 6. The whole ensemble down for longer than the session's lifetime, then
// started again on its data: the node serves again by itself.
TEST_P(CoordinatorTest, NodeRecoversAfterEnsembleDownLongerThanTtl) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  Scenario scenario(coordinator->NodeFlags(), "longdown");
  constexpr int kTtl = 3;
  auto node = scenario.Start({"n1", "", kTtl});
  ASSERT_TRUE(node->ready()) << node->Log();
  Load load(scenario, node->port(), 100, milliseconds(5), milliseconds(5000));
  std::this_thread::sleep_for(kOneSecond);

  ASSERT_TRUE(coordinator->StopAll().ok());
  std::this_thread::sleep_for(std::chrono::seconds(2 * kTtl + 1));
  ASSERT_TRUE(coordinator->StartAll().ok());
  const auto back = SteadyClock::now();
  const bool serving = Eventually([&] { return Serving(node->port()); },
                                  std::chrono::seconds(20));
  EXPECT_TRUE(serving) << "not serving 20 s after " << coordinator->name()
                       << " came back\n"
                       << node->Log();
  std::printf("serving %lld ms after %s came back\n",
              static_cast<long long>(Since(back).count()),
              coordinator->name().c_str());
  std::this_thread::sleep_for(kOneSecond);
  if (serving) {
    const Window w = Summarize(load, SteadyClock::now() - milliseconds(800),
                               SteadyClock::now(), back);
    EXPECT_GT(w.ok, 10u);
    EXPECT_EQ(w.failed, 0u) << w.first_failure;
  }
  load.Stop();
  StopNode(*node);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

// Who held workers/<id> at a moment (wall ms at the start of the read).
struct Observation {
  int64_t at_ms;
  std::string holder;  // Node name; empty: no holder.
};

// Reads workers/<id> over and over on its own thread, until destroyed.
class ClaimWatcher {
 public:
  ClaimWatcher(CoordinatorBackend& coordinator, std::string cluster,
               int64_t id) {
    thread_ =
        std::thread([this, &coordinator, cluster = std::move(cluster), id] {
          while (!stop_.load()) {
            const int64_t at = WallMillis();
            absl::StatusOr<std::optional<ClaimInfo>> claim =
                coordinator.ReadClaim(cluster, id);
            if (claim.ok()) {
              std::lock_guard<std::mutex> lock(mu_);
              seen_.push_back({at, claim->has_value() ? (*claim)->node : ""});
            }
            std::this_thread::sleep_for(milliseconds(10));
          }
        });
  }
  ~ClaimWatcher() {
    stop_.store(true);
    thread_.join();
  }
  ClaimWatcher(const ClaimWatcher&) = delete;
  ClaimWatcher& operator=(const ClaimWatcher&) = delete;

  // The latest moment at which `node` was known not to hold the claim again
  // yet: the start of the last read before the first one that saw it hold
  // the claim (`floor` if the first read did). No claim of `node` existed
  // before it. INT64_MAX if `node` never held it again.
  int64_t NotHeldBy(const std::string& node, int64_t floor) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i].holder == node) return i == 0 ? floor : seen_[i - 1].at_ms;
    }
    return INT64_MAX;
  }
  std::string Timeline() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string text;
    std::string last = "-";
    for (const Observation& o : seen_) {
      if (o.holder == last) continue;
      last = o.holder;
      text += std::to_string(o.at_ms) + ":" +
              (o.holder.empty() ? "(free)" : o.holder) + " ";
    }
    return text;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Observation> seen_;
  std::thread thread_;
};

// The Unix ms of the first log line of `log` that contains `needle`
// ("2026-12-01T11:13:04.438Z level event=..."), or nullopt.
std::optional<int64_t> LoggedAt(const std::string& log,
                                const std::string& needle) {
  const size_t at = log.find(needle);
  if (at == std::string::npos) return std::nullopt;
  const size_t line = log.rfind('\n', at);
  const std::string stamp =
      log.substr(line == std::string::npos ? 0 : line + 1, 24);
  std::tm tm = {};
  int millis = 0;
  if (std::sscanf(stamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

enum class Removal { kEndSession, kDeleteClaim };

// Nodes a and b share the range 0-1; an admin removes a's claim under load
// (ends its session on the server, or deletes workers/<id>), and a thief
// limited to that one ID is started at once. a must stop issuing under the
// lost ID within 100 ms, serve again, and no ID may repeat.
void RunClaimRemoval(CoordinatorBackend& coordinator, Removal removal) {
  constexpr int kTtl = 3;
  // How far ahead the stored HWM is kept: short, so that a successor of a
  // worker ID waits seconds, not a minute.
  const std::pair<std::string, std::string> short_budget = {
      "SNOWFLAKE_OUTAGE_BUDGET", "6"};
  // A node told that its claim is gone stops issuing within this...
  constexpr int64_t kStopWithinMs = 100;
  // ...plus this for reading the clock around the admin's call and for the
  // tick of an ID taken just before it.
  constexpr int64_t kClockToleranceMs = 20;

  const std::string cluster =
      removal == Removal::kEndSession ? "revoke" : "delete";
  Scenario scenario(coordinator.NodeFlags(), cluster);
  auto a = scenario.Start({"a", "0-1", kTtl, {}, {short_budget}});
  ASSERT_TRUE(a->ready()) << a->Log();
  const int64_t w = InfoWorkerId(a->port());
  ASSERT_GE(w, 0);
  auto b = scenario.Start({"b", "0-1", kTtl, {}, {short_budget}});
  ASSERT_TRUE(b->ready()) << b->Log();
  Load a_load(scenario, a->port(), 50, milliseconds(1), milliseconds(5000));
  Load a_load2(scenario, a->port(), 50, milliseconds(1), milliseconds(5000));
  Load b_load(scenario, b->port(), 50, milliseconds(5), milliseconds(5000));
  std::this_thread::sleep_for(kOneSecond);
  ASSERT_TRUE(ClaimHeld(coordinator, cluster, w));

  const int64_t before_ms = WallMillis();
  const absl::Status done = removal == Removal::kEndSession
                                ? coordinator.EndSession(cluster, w)
                                : coordinator.DeleteClaim(cluster, w);
  const int64_t removed_ms = WallMillis();
  ASSERT_TRUE(done.ok()) << done;
  ClaimWatcher watcher(coordinator, cluster, w);
  const std::string only = std::to_string(w) + "-" + std::to_string(w);
  // The thief waits out the stored HWM (the budget) if it wins the race;
  // if a took w back first, the thief waits for a free ID in vain.
  auto thief = scenario.StartOnce({"thief", only, kTtl, {}, {short_budget}},
                                  std::chrono::seconds(12));
  std::unique_ptr<Load> thief_load;
  if (thief->ready()) {
    thief_load = std::make_unique<Load>(scenario, thief->port(), 50,
                                        milliseconds(5), milliseconds(5000));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // Free b's ID, so that a finds one whoever won the race for w.
  StopNode(*b);
  b_load.Stop();
  const bool a_serves = Eventually(
      [&] {
        return Status(a->port(), "/readyz") == 200 &&
               Status(a->port(), "/v1/id") == 200;
      },
      std::chrono::seconds(15));
  std::this_thread::sleep_for(milliseconds(500));
  a_load.Stop();
  a_load2.Stop();
  if (thief_load) thief_load->Stop();

  // a's IDs under w stamped after the removal took effect, before a could
  // have claimed w again.
  const int64_t limit = removed_ms + kStopWithinMs + kClockToleranceMs;
  const int64_t a_again = watcher.NotHeldBy("a", removed_ms);
  size_t stale = 0;
  int64_t latest_stale = 0;
  for (Load* load : {&a_load, &a_load2}) {
    for (uint64_t id : AllIds(*load)) {
      const int64_t ms = scenario.MillisOf(id);
      if (scenario.WorkerOf(id) == w && ms > limit && ms < a_again) {
        ++stale;
        latest_stale = std::max(latest_stale, ms);
      }
    }
  }
  EXPECT_EQ(stale, 0u) << stale << " IDs under worker " << w
                       << " from node a stamped over " << kStopWithinMs
                       << " ms after the claim was removed (the admin's call "
                       << "ran " << before_ms << ".." << removed_ms
                       << "), the latest at +" << latest_stale - removed_ms
                       << " ms; holders: " << watcher.Timeline() << "\n"
                       << a->Log();
  // However soon a took w back, it must have seen the claim go at once: the
  // node stops issuing when the coordinator reports it, and its supervisor
  // logs it on its next 50 ms round.
  std::printf("thief %s; holders of worker %lld: %s\n",
              thief->ready() ? "ready" : "not ready", static_cast<long long>(w),
              watcher.Timeline().c_str());
  const std::optional<int64_t> lost_ms = LoggedAt(a->Log(), "event=lease_lost");
  EXPECT_TRUE(lost_ms.has_value()) << a->Log();
  if (lost_ms.has_value()) {
    EXPECT_LE(*lost_ms - removed_ms, kStopWithinMs + 50 + kClockToleranceMs)
        << a->Log();
    std::printf("a logged the loss %lld ms after the admin's call returned\n",
                static_cast<long long>(*lost_ms - removed_ms));
  }
  EXPECT_TRUE(a_serves) << "node a never served again\n" << a->Log();
  StopNode(*a);
  if (thief->running()) StopNode(*thief);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

// 7. The server ends a node's session under load (etcd: `etcdctl lease
// revoke`; ZooKeeper: the session closed from outside, so that its
// ephemeral claim goes and the node's reconnection is told SESSION_EXPIRED).
TEST_P(CoordinatorTest, SessionEndedByTheServerStopsIssuingAtOnce) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  RunClaimRemoval(*coordinator, Removal::kEndSession);
}

// 8. An admin deletes <root>/<cluster>/workers/<id> by hand under load.
TEST_P(CoordinatorTest, ClaimDeletedByHandStopsIssuingAtOnce) {
  std::unique_ptr<CoordinatorBackend> coordinator = StartCoordinator();
  ASSERT_NE(coordinator, nullptr);
  RunClaimRemoval(*coordinator, Removal::kDeleteClaim);
}

// The ledger finds a repeat: the check every scenario ends with can fail.
TEST(CoordinatorLedgerTest, ExpectAllUniqueReportsARepeat) {
  Scenario scenario(EtcdFlags("http://127.0.0.1:1"), "ledger");
  scenario.Record({1, 2, 3});
  scenario.Record({4, 2});
  EXPECT_NONFATAL_FAILURE(scenario.ExpectAllUnique(),
                          "ID 2 (worker 0) was issued twice, among 5 IDs");
}

std::string Hex(const std::string& bytes) {
  std::string text;
  for (char c : bytes) {
    char digits[3];
    std::snprintf(digits, sizeof(digits), "%02x",
                  static_cast<unsigned char>(c));
    text += digits;
  }
  return text;
}

// The password ZooKeeper 3.x derives for a session, against Java 17's
// `new java.util.Random(id ^ 0XB3415C00L).nextBytes(new byte[16])`.
TEST(CoordinatorLedgerTest, ZooKeeperSessionPasswordMatchesJava) {
  EXPECT_EQ(Hex(ZooKeeperSessionPassword(0)),
            "f22acd4a97e69d6d20a49bb638eadb38");
  EXPECT_EQ(Hex(ZooKeeperSessionPassword(72057594037927937)),
            "054cc74a37327db215e702e20c73f005");
  EXPECT_EQ(Hex(ZooKeeperSessionPassword(72058875347045052)),
            "606c245ffeb015ac5e1034b465608144");
}

INSTANTIATE_TEST_SUITE_P(
    Coordinators, CoordinatorTest,
    ::testing::Values(CoordinatorKind::kEtcd, CoordinatorKind::kZooKeeper),
    [](const ::testing::TestParamInfo<CoordinatorKind>& info) {
      return KindName(info.param);
    });

}  // namespace
}  // namespace snowflake::testing
