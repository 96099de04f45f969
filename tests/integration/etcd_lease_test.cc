// Worker-ID leases on a real etcd (issue 4): real snowflaked processes with
// `--coordinator etcd` and short TTLs, through starts, crashes, pauses,
// graceful stops, etcd member and quorum loss, layout mismatch, a clock
// behind the stored high-water mark, and TLS. Every ID any node hands out
// in a scenario is recorded and checked for repeats at its end.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/etcd_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace schema = cluster_schema;

constexpr char kPrefix[] = "/snowflake";
constexpr auto kOneSecond = std::chrono::seconds(1);

// The worker ID a running node reports in /v1/info, or -1.
int64_t InfoWorker(int port) {
  std::optional<HttpReply> reply = HttpGet(port, "/v1/info");
  if (!reply || reply->status != 200) return -1;
  const nlohmann::json info =
      nlohmann::json::parse(reply->body, nullptr, false);
  if (!info.contains("lease")) return -1;
  return info["lease"].value("worker_id", int64_t{-1});
}

bool WorkerKeyExists(etcd::EtcdClient& client, const std::string& cluster,
                     int64_t id) {
  auto kv = client.Get(schema::WorkerKey(kPrefix, cluster, id));
  return kv.ok() && kv->has_value();
}

std::optional<int64_t> StoredHwm(etcd::EtcdClient& client,
                                 const std::string& cluster, int64_t id) {
  auto kv = client.Get(schema::HwmKey(kPrefix, cluster, id));
  if (!kv.ok() || !kv->has_value()) return std::nullopt;
  auto millis = schema::DecodeHwm((*kv)->value);
  return millis.ok() ? std::optional<int64_t>(*millis) : std::nullopt;
}

// Stops a node with SIGTERM and expects a clean exit.
void Stop(DaemonProcess& node) {
  node.Signal(SIGTERM);
  EXPECT_EQ(node.Wait(std::chrono::seconds(15)), 0) << node.Log();
}

// Takes `rounds` batches of `count` from a node; returns them all. A 503
// is retried for a while: on a loaded machine etcd or the node may stall
// past a 2 s TTL, and the node then fences itself and acquires again by
// itself, which these scenarios do not test.
std::vector<uint64_t> TakeSome(Scenario& scenario, DaemonProcess& node,
                               int rounds = 5, int count = 1000) {
  std::vector<uint64_t> all;
  for (int i = 0; i < rounds; ++i) {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(15);
    int status = 0;
    std::vector<uint64_t> ids;
    while (true) {
      std::tie(status, ids) = TakeIds(scenario, node.port(), count);
      if (status != 503 || SteadyClock::now() > deadline) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(status, 200) << node.Log();
    all.insert(all.end(), ids.begin(), ids.end());
  }
  return all;
}

uint64_t Max(const std::vector<uint64_t>& ids) {
  return ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
}
uint64_t Min(const std::vector<uint64_t>& ids) {
  return ids.empty() ? 0 : *std::min_element(ids.begin(), ids.end());
}

// 1. Three nodes started at once hold three distinct worker IDs; with a
// range of two IDs, the third of three exits naming the range.
TEST(EtcdLeaseTest, ThreeNodesGetDistinctIdsAndAFullRangeRefuses) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "three");

  auto nodes = scenario.StartAll({{"a"}, {"b"}, {"c"}});
  std::set<int64_t> workers;
  for (auto& node : nodes) {
    ASSERT_TRUE(node->ready()) << node->Log();
    const std::vector<uint64_t> ids = TakeSome(scenario, *node);
    const int64_t worker = OnlyWorker(scenario, ids);
    EXPECT_GE(worker, 0) << "a node issued under several worker IDs";
    EXPECT_EQ(InfoWorker(node->port()), worker);
    EXPECT_EQ(Metric(node->port(), "snowflake_worker_id"), worker);
    EXPECT_EQ(Metric(node->port(), "snowflake_coordinator_up"), 1);
    EXPECT_GT(
        Metric(node->port(), "snowflake_lease_time_left_seconds").value_or(0),
        0);
    EXPECT_TRUE(WorkerKeyExists(*client, "three", worker));
    workers.insert(worker);
  }
  EXPECT_EQ(workers.size(), 3u);
  auto discovery = client->GetPrefix(schema::NodesPrefix(kPrefix, "three"));
  ASSERT_TRUE(discovery.ok()) << discovery.status();
  EXPECT_EQ(discovery->size(), 3u);

  // Two IDs, three nodes racing for them: the loser waits for a free ID
  // (not ready) until its --start-timeout, then exits saying why.
  Scenario small(*etcd, "small");
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

  for (auto& node : nodes) Stop(*node);
  for (auto& node : racers) {
    if (node->running()) Stop(*node);
  }
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
  EXPECT_GT(small.ExpectAllUnique(), 0u);
}

// 2. After kill -9, the worker key outlives the node by about the TTL; a
// restarted node gets an ID and issues only past the stored HWM.
TEST(EtcdLeaseTest, KilledNodesIdIsFreeAfterTtlAndRestartWaitsPastHwm) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "crash");
  constexpr int kTtl = 2;
  // A 2 s outage budget: the restarted node's own ID is then the one it
  // can start soonest on.
  const EtcdNodeSpec spec{
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

    // The claim stays until etcd expires the lease: not much before the
    // TTL (the last keep-alive went out up to TTL/3 before the kill) and
    // not much after it.
    EXPECT_TRUE(WorkerKeyExists(*client, "crash", worker));
    ASSERT_TRUE(
        Eventually([&] { return !WorkerKeyExists(*client, "crash", worker); },
                   std::chrono::seconds(kTtl + 5)));
    const milliseconds freed_after = Since(killed);
    EXPECT_GE(freed_after, milliseconds(kTtl * 1000 * 2 / 3 - 300));
    EXPECT_LE(freed_after, milliseconds(kTtl * 1000 + 2500));
  }
  const int64_t worker = OnlyWorker(scenario, before);
  const std::optional<int64_t> hwm = StoredHwm(*client, "crash", worker);
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
  Stop(*second);
  scenario.ExpectAllUnique();
}

// 3. A node frozen past its TTL loses its ID to another node; once it
// wakes it hands out nothing under the old worker ID, then recovers under
// the other ID of its range.
TEST(EtcdLeaseTest, PausedNodeNeverIssuesItsOldIdAfterWaking) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "pause");
  constexpr int kTtl = 2;

  auto sleeper = scenario.Start(
      {"sleeper",
       "6-7",
       kTtl,
       {"--outage-budget", "2", "--hwm-write-interval-ms", "500"}});
  ASSERT_TRUE(sleeper->ready()) << sleeper->Log();
  const int64_t old_worker = InfoWorker(sleeper->port());
  ASSERT_GE(old_worker, 6);
  const int64_t other_worker = old_worker == 6 ? 7 : 6;

  Load sleeper_load(scenario, sleeper->port());
  std::this_thread::sleep_for(milliseconds(500));
  const auto stopped_at = SteadyClock::now();
  sleeper->Signal(SIGSTOP);
  ASSERT_TRUE(
      Eventually([&] { return !WorkerKeyExists(*client, "pause", old_worker); },
                 std::chrono::seconds(kTtl + 5)))
      << "etcd never expired the frozen node's claim";

  // The thief may only take the sleeper's worker ID.
  const std::string only = std::to_string(old_worker);
  auto thief = scenario.Start({"thief", only + "-" + only, kTtl});
  ASSERT_TRUE(thief->ready()) << thief->Log();
  Load thief_load(scenario, thief->port());
  std::this_thread::sleep_for(milliseconds(300));

  const auto woke_at = SteadyClock::now();
  sleeper->Signal(SIGCONT);
  const bool recovered = Eventually(
      [&] {
        return Status(sleeper->port(), "/readyz") == 200 &&
               InfoWorker(sleeper->port()) == other_worker;
      },
      std::chrono::seconds(15));
  std::this_thread::sleep_for(milliseconds(500));
  sleeper_load.Stop();
  thief_load.Stop();
  EXPECT_TRUE(recovered) << sleeper->Log();
  EXPECT_THAT(sleeper->Log(), HasSubstr("event=lease_lost"));

  std::vector<uint64_t> sleeper_old;
  size_t after_wake_ok = 0;
  size_t after_wake_refused = 0;
  size_t stale = 0;
  for (const LoadReply& r : sleeper_load.Replies()) {
    if (r.received < stopped_at) {
      EXPECT_EQ(OnlyWorker(scenario, r.ids), r.ids.empty() ? -1 : old_worker);
      sleeper_old.insert(sleeper_old.end(), r.ids.begin(), r.ids.end());
      continue;
    }
    if (r.received < woke_at) continue;
    if (r.status == 503) ++after_wake_refused;
    if (r.status != 200) continue;
    for (uint64_t id : r.ids) {
      stale += scenario.WorkerOf(id) == old_worker;
      EXPECT_EQ(scenario.WorkerOf(id), other_worker) << id;
    }
    ++after_wake_ok;
  }
  EXPECT_EQ(stale, 0u) << "IDs under the lost worker ID after waking";
  EXPECT_GT(after_wake_ok, 0u) << "the sleeper never recovered";
  std::printf("after waking: %zu replies refused (503), %zu ok\n",
              after_wake_refused, after_wake_ok);

  std::vector<uint64_t> thief_ids;
  for (const LoadReply& r : thief_load.Replies()) {
    EXPECT_EQ(r.status, 200);
    thief_ids.insert(thief_ids.end(), r.ids.begin(), r.ids.end());
  }
  ASSERT_FALSE(thief_ids.empty());
  EXPECT_EQ(OnlyWorker(scenario, thief_ids), old_worker);
  // The thief waited past the sleeper's HWM.
  EXPECT_GT(Min(thief_ids), Max(sleeper_old));

  Stop(*sleeper);
  Stop(*thief);
  scenario.ExpectAllUnique();
}

// 4. SIGTERM revokes the lease: the next node takes the ID long before the
// TTL could have run out (after its takeover wait: a third of the TTL, the
// margin and the clock skew bound).
TEST(EtcdLeaseTest, SigtermFreesTheIdAtOnce) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "term");
  constexpr int kTtl = 30;

  auto first = scenario.Start({"first", "8-8", kTtl});
  ASSERT_TRUE(first->ready()) << first->Log();
  const std::vector<uint64_t> before = TakeSome(scenario, *first);
  ASSERT_EQ(OnlyWorker(scenario, before), 8);
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(std::chrono::seconds(15)), 0) << first->Log();
  EXPECT_FALSE(WorkerKeyExists(*client, "term", 8));
  // The final HWM is the last issued tick + 1, not a reserve ahead.
  const std::optional<int64_t> hwm = StoredHwm(*client, "term", 8);
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
  Stop(*second);
  EXPECT_FALSE(WorkerKeyExists(*client, "term", 8));
  scenario.ExpectAllUnique();
}

// The index of etcd's leader among the launcher's members, or -1.
int LeaderIndex(EtcdLauncher& etcd) {
  absl::StatusOr<std::string> out =
      etcd.Etcdctl({"endpoint", "status", "-w", "json"});
  if (!out.ok()) return -1;
  const nlohmann::json status = nlohmann::json::parse(*out, nullptr, false);
  if (!status.is_array()) return -1;
  for (const nlohmann::json& member : status) {
    const nlohmann::json& s = member["Status"];
    if (s["header"]["member_id"] != s["leader"]) continue;
    for (int i = 0; i < etcd.size(); ++i) {
      if (member["Endpoint"] == etcd.ClientUrl(i)) return i;
    }
  }
  return -1;
}

// 5. Under load on a 3-member etcd: losing one member (the leader) fails
// no request; losing quorum lets nodes issue on their outage budget, past
// the lease deadline, and stop when their stored HWM runs out (503, not
// ready); with the members back the nodes serve again by themselves.
TEST(EtcdLeaseTest, EtcdClusterLosesMemberThenQuorumAndRecovers) {
  EtcdLauncherOptions options;
  options.members = 3;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "quorum");
  // Losing the leader leaves etcd without one for 1-2 s (election timeout
  // 1 s, randomized up to 2 s), and renewals fail meanwhile. With a TTL of
  // 5 s the fencing deadline (4.5 s after the last renewal sent, at most
  // TTL/3 before the kill) leaves room for that; 3 s would not.
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
  int first_down = LeaderIndex(*etcd);
  std::printf("killing etcd member %d (%s)\n", std::max(first_down, 0),
              first_down < 0 ? "leader unknown" : "the leader");
  if (first_down < 0) first_down = 0;
  const auto one_down = SteadyClock::now();
  ASSERT_TRUE(etcd->Kill(first_down).ok());
  std::this_thread::sleep_for(std::chrono::seconds(2 * kTtl));
  for (size_t i = 0; i < loads.size(); ++i) {
    size_t after = 0;
    size_t failed = 0;
    std::string first_failure;
    milliseconds last_failure(0);
    for (const LoadReply& r : loads[i]->Replies()) {
      after += r.received > one_down;
      if (r.status == 200) continue;
      const auto at =
          std::chrono::duration_cast<milliseconds>(r.received - one_down);
      last_failure = at;
      if (failed++ == 0) {
        first_failure = "status " + std::to_string(r.status) + " at " +
                        std::to_string(at.count()) +
                        " ms after the kill: " + r.error;
      }
    }
    EXPECT_EQ(failed, 0u) << "node " << i << " failed " << failed
                          << " requests with one etcd member down, the first "
                          << first_failure << ", the last at "
                          << last_failure.count() << " ms\n"
                          << nodes[i]->Log();
    EXPECT_GT(after, 10u);
  }

  // Quorum lost: issuing goes on below the stored HWM, past the lease
  // deadline, until the mark runs out. A leader cut off from its followers
  // may still accept writes until it steps down (etcd's check-quorum,
  // within two election timeouts of 1 s), so the last mark can come up to
  // that much after the loss.
  const int second_down = (first_down + 1) % 3;
  const auto no_quorum = SteadyClock::now();
  ASSERT_TRUE(etcd->Kill(second_down).ok());
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
    // ID while etcd had no quorum.
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

  ASSERT_TRUE(etcd->Restart(first_down).ok());
  ASSERT_TRUE(etcd->Restart(second_down).ok());
  for (auto& node : nodes) {
    EXPECT_TRUE(
        Eventually([&] { return Status(node->port(), "/readyz") == 200; },
                   std::chrono::seconds(20)))
        << node->Log();
  }
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
    Stop(*node);
  }
  std::printf("quorum scenario: %zu IDs\n", scenario.ExpectAllUnique());
}

// 6. A node whose layout or epoch differs from the cluster's stored config
// refuses to start, naming both.
TEST(EtcdLeaseTest, LayoutOrEpochMismatchRefusesToStart) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "fixed");
  const std::string stored = Layout().ToString();

  auto first = scenario.Start({"first"});
  ASSERT_TRUE(first->ready()) << first->Log();
  TakeSome(scenario, *first, 1);
  auto config = client->Get(schema::ConfigKey(kPrefix, "fixed"));
  ASSERT_TRUE(config.ok() && config->has_value());

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string theirs;  // In the node's layout string.
  };
  const std::vector<Case> cases = {
      {"widths", {"--layout", "40/11/12"}, "40/11/12"},
      {"epoch", {"--epoch", "1700000000000"}, "epoch=1700000000000"},
  };
  for (const Case& c : cases) {
    const auto launched = SteadyClock::now();
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--start-timeout", "3"});
    auto node = scenario.Start({c.name, "", 2, args});
    EXPECT_FALSE(node->ready()) << c.name;
    const std::optional<int> code = node->Wait(std::chrono::seconds(15));
    ASSERT_TRUE(code.has_value()) << node->Log();
    EXPECT_NE(*code, 0) << c.name;
    EXPECT_LT(Since(launched), std::chrono::seconds(10));
    EXPECT_THAT(node->Log(), AllOf(HasSubstr("layout"), HasSubstr(stored),
                                   HasSubstr(c.theirs)))
        << c.name;
  }
  // The stored config is untouched and only the first node holds an ID.
  auto again = client->Get(schema::ConfigKey(kPrefix, "fixed"));
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->value, (*config)->value);
  EXPECT_EQ((*again)->mod_revision, (*config)->mod_revision);
  auto held = client->GetPrefix(schema::WorkersPrefix(kPrefix, "fixed"));
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 1u);
  Stop(*first);
  scenario.ExpectAllUnique();
}

// libfaketime setting the wall clock back by `offset` ("-3s"). The
// monotonic clock stays real: libfaketime 0.9.10 shifting it too makes
// std::condition_variable::wait_for sleep for ever (the keep-alive thread
// would never renew), and a wall clock set back is the case to model.
std::vector<std::pair<std::string, std::string>> FakeWallClock(
    const std::string& offset) {
  return {{"LD_PRELOAD", LIBFAKETIME_PATH},
          {"FAKETIME", offset},
          {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
}

// 7. A node whose clock is behind the HWM stored in etcd waits until it
// passes it, or refuses to start when it is too far behind; never a repeat.
TEST(EtcdLeaseTest, ClockBehindStoredHwmWaitsOrRefuses) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  Scenario scenario(*etcd, "clock");

  auto first = scenario.Start({"first", "9-9"});
  ASSERT_TRUE(first->ready()) << first->Log();
  const std::vector<uint64_t> first_ids = TakeSome(scenario, *first);
  Stop(*first);

  // 3 s behind: waits about 3 s, then issues above everything before.
  const auto launched = SteadyClock::now();
  auto behind = scenario.Start({"behind", "9-9", 2, {}, FakeWallClock("-3s")});
  ASSERT_TRUE(behind->ready()) << behind->Log();
  EXPECT_GE(Since(launched), milliseconds(2000));
  const std::vector<uint64_t> behind_ids = TakeSome(scenario, *behind);
  EXPECT_EQ(OnlyWorker(scenario, behind_ids), 9);
  EXPECT_GT(Min(behind_ids), Max(first_ids));
  Stop(*behind);

  // 20 s behind with at most 2 s of waiting: refuses, and says why.
  auto far = scenario.Start({"far",
                             "9-9",
                             2,
                             {"--max-start-wait-ms", "2000", "--outage-budget",
                              "1", "--hwm-write-interval-ms", "500"},
                             FakeWallClock("-20s")});
  EXPECT_FALSE(far->ready());
  const std::optional<int> code = far->Wait(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << far->Log();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(far->Log(), AllOf(HasSubstr("event=start_failed"),
                                HasSubstr("behind the high-water mark")));

  // The ID is free again (revoked, or expired after the TTL), and the next
  // holder still issues above everything before.
  auto last = scenario.Start({"last", "9-9"});
  if (!last->ready()) {
    // The refused node's claim may only lapse with its TTL.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    last = scenario.Start({"last", "9-9"});
  }
  ASSERT_TRUE(last->ready()) << last->Log();
  const std::vector<uint64_t> last_ids = TakeSome(scenario, *last);
  EXPECT_GT(Min(last_ids), Max(behind_ids));
  Stop(*last);
  scenario.ExpectAllUnique();
}

// 8. TLS: with the CA and a client certificate the node serves; without
// them it retries (a TLS failure looks like an etcd not up yet) until its
// --start-timeout, then fails, saying what went wrong.
TEST(EtcdLeaseTest, TlsEtcdNeedsCertificates) {
  EtcdLauncherOptions options;
  options.tls = true;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  const EtcdTlsFiles& files = etcd->tls_files();
  Scenario scenario(*etcd, "tls");
  ASSERT_THAT(etcd->ClientUrl(0), ::testing::StartsWith("https://"));

  auto good = scenario.Start(
      {"good",
       "",
       2,
       {"--etcd-ca", files.ca_file, "--etcd-cert", files.client_cert_file,
        "--etcd-key", files.client_key_file}});
  ASSERT_TRUE(good->ready()) << good->Log();
  const std::vector<uint64_t> ids = TakeSome(scenario, *good);
  EXPECT_GE(OnlyWorker(scenario, ids), 0);
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(*etcd);
  EXPECT_TRUE(WorkerKeyExists(*client, "tls", OnlyWorker(scenario, ids)));

  struct Case {
    std::string name;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {"no-tls-flags", {}},
      {"no-client-cert", {"--etcd-ca", files.ca_file}},
  };
  for (const Case& c : cases) {
    const auto launched = SteadyClock::now();
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--start-timeout", "3"});
    auto node = scenario.Start({c.name, "", 2, args});
    EXPECT_FALSE(node->ready()) << c.name << ": " << node->Log();
    const std::optional<int> code = node->Wait(std::chrono::seconds(20));
    ASSERT_TRUE(code.has_value()) << c.name << ": " << node->Log();
    EXPECT_NE(*code, 0) << c.name;
    EXPECT_LT(Since(launched), std::chrono::seconds(15)) << c.name;
    // One line that names the failure and where.
    EXPECT_THAT(node->Log(), AllOf(HasSubstr("event=start_failed"),
                                   HasSubstr(etcd->ClientUrl(0))))
        << c.name;
  }
  Stop(*good);
  scenario.ExpectAllUnique();
}

}  // namespace
}  // namespace snowflake::testing
