// Issue 8, reconnect and outage: real snowflaked processes with default
// settings through an etcd member restart, a rolling restart of all three
// members, a node started before etcd, and a 45 s outage of the whole etcd
// under load. (The whole coordinator down past the lease TTL runs against
// both coordinators in coordinator_test.cc.) Nodes must recover
// by themselves, keep answering 200 while their stored HWM lasts, and never
// repeat an ID (every ID is collected and checked).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/hazard_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;

// The default lease TTL: these hazards show with default settings.
constexpr int kDefaultTtl = 30;

// A node serves again: ready, an ID, and its coordinator up.
bool Serving(int port) {
  return Status(port, "/readyz") == 200 && Status(port, "/v1/id") == 200 &&
         Metric(port, "snowflake_coordinator_up") == 1;
}

// Every reply of every load in [from, to) was a 200.
void ExpectNoFailures(std::vector<std::unique_ptr<Load>>& loads,
                      SteadyClock::time_point from, SteadyClock::time_point to,
                      const std::string& what) {
  for (size_t i = 0; i < loads.size(); ++i) {
    const Window w = Summarize(*loads[i], from, to, from);
    EXPECT_EQ(w.failed, 0u)
        << "node " << i << " failed " << w.failed << " of " << w.ok + w.failed
        << " requests " << what << "; the first " << w.first_failure
        << "; the last " << w.last_failure;
    EXPECT_GT(w.ok, 10u) << "node " << i << " " << what;
  }
}

std::vector<std::unique_ptr<Load>> LoadAll(
    Scenario& scenario, std::vector<std::unique_ptr<DaemonProcess>>& nodes) {
  std::vector<std::unique_ptr<Load>> loads;
  loads.reserve(nodes.size());
  for (auto& node : nodes) {
    loads.push_back(std::make_unique<Load>(
        scenario, node->port(), 100, milliseconds(5), milliseconds(5000)));
  }
  return loads;
}

// 1. One etcd member restarted (down 3 s): the node keeps answering 200 and
// writes its HWM to the restarted member, without a restart of its own.
TEST(EtcdOutageTest, NodeReconnectsAfterEtcdMemberRestart) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "restart");
  std::vector<std::unique_ptr<DaemonProcess>> nodes;
  nodes.push_back(scenario.Start({"n1", "", kDefaultTtl}));
  ASSERT_TRUE(nodes[0]->ready()) << nodes[0]->Log();
  const int64_t worker = InfoWorkerId(nodes[0]->port());
  auto loads = LoadAll(scenario, nodes);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const auto begin = SteadyClock::now();
  ASSERT_TRUE(etcd->Kill(0).ok());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(etcd->Restart(0).ok());
  const int64_t back_at = WallMillis();
  const std::optional<int64_t> hwm_at_restart =
      StoredHwmOf(*etcd, "restart", worker);
  // Long enough for a node that cannot write its HWM any more to run out
  // of the old binary's 5 s reserve.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const auto end = SteadyClock::now();
  ExpectNoFailures(loads, begin, end, "through the etcd restart");
  EXPECT_TRUE(Eventually([&] { return Serving(nodes[0]->port()); },
                         std::chrono::seconds(5)))
      << "not serving 15 s after etcd came back\n"
      << nodes[0]->Log();
  const std::optional<int64_t> hwm = StoredHwmOf(*etcd, "restart", worker);
  ASSERT_TRUE(hwm.has_value());
  EXPECT_GT(*hwm, hwm_at_restart.value_or(0))
      << "the node never wrote its HWM to the restarted etcd (back at "
      << back_at << ")";
  for (auto& load : loads) load->Stop();
  StopNode(*nodes[0]);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

// 2. Every member of a 3-member etcd restarted one after another: no
// request fails and every node still talks to etcd at the end.
TEST(EtcdOutageTest, RollingRestartOfAllThreeMembers) {
  EtcdLauncherOptions options;
  options.members = 3;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "rolling");
  auto nodes =
      scenario.StartAll({{"n1", "", kDefaultTtl}, {"n2", "", kDefaultTtl}});
  for (auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();
  auto loads = LoadAll(scenario, nodes);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const auto begin = SteadyClock::now();
  // Each member down for a few seconds (a host reboot, an upgrade), so the
  // nodes' requests to it fail meanwhile and must fail over and come back.
  for (int i = 0; i < etcd->size(); ++i) {
    ASSERT_TRUE(etcd->Kill(i).ok()) << "member " << i;
    std::this_thread::sleep_for(std::chrono::seconds(3));
    ASSERT_TRUE(etcd->Restart(i).ok()) << "member " << i;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  std::vector<int64_t> hwm_after_roll;
  hwm_after_roll.reserve(nodes.size());
  for (auto& node : nodes) {
    hwm_after_roll.push_back(
        StoredHwmOf(*etcd, "rolling", InfoWorkerId(node->port())).value_or(0));
  }
  std::this_thread::sleep_for(std::chrono::seconds(8));
  ExpectNoFailures(loads, begin, SteadyClock::now(),
                   "through the rolling restart");
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_TRUE(Eventually([&] { return Serving(nodes[i]->port()); },
                           std::chrono::seconds(5)))
        << nodes[i]->Log();
    const int64_t worker = InfoWorkerId(nodes[i]->port());
    EXPECT_GT(StoredHwmOf(*etcd, "rolling", worker).value_or(0),
              hwm_after_roll[i])
        << "node " << i << " wrote no HWM after the last member restarted";
  }
  for (auto& load : loads) load->Stop();
  for (auto& node : nodes) StopNode(*node);
  EXPECT_GT(scenario.ExpectAllUnique(), 0u);
}

// 3. A node started while etcd is down waits (not ready, logging its
// retries) past the old 10 s give-up, and is ready once etcd starts.
TEST(EtcdOutageTest, NodeStartedBeforeEtcdWaitsUntilItIsUp) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  ASSERT_TRUE(etcd->Kill(0).ok());
  Scenario scenario(*etcd, "early");
  auto node = scenario.StartOnce({"early", "", 2}, std::chrono::seconds(12));
  EXPECT_FALSE(node->ready());
  ASSERT_TRUE(node->running())
      << "the node gave up while etcd was down; exit code "
      << node->exit_code().value_or(-1) << "\n"
      << node->Log();
  const int early_port = ListeningPort(node->Log());
  if (early_port != 0) {
    EXPECT_EQ(Status(early_port, "/readyz"), 503);
  }
  const std::string waiting_log = node->Log();
  size_t lines = 0;
  for (size_t at = 0; (at = waiting_log.find('\n', at)) != std::string::npos;
       ++at) {
    ++lines;
  }
  EXPECT_GE(lines, 2u) << "no retries logged while waiting:\n" << waiting_log;

  ASSERT_TRUE(etcd->Restart(0).ok());
  EXPECT_TRUE(Eventually(
      [&] { return node->Log().find("event=ready") != std::string::npos; },
      std::chrono::seconds(20)))
      << node->Log();
  const int port = ListeningPort(node->Log());
  ASSERT_NE(port, 0) << node->Log();
  const auto [status, ids] = TakeIds(scenario, port, 1000);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(ids.size(), 1000u);
  StopNode(*node);
  scenario.ExpectAllUnique();
}

// /v1/info's lease.presumed_expired, or nullopt without it.
std::optional<bool> PresumedExpired(const nlohmann::json& info) {
  if (!info.is_object() || !info.contains("lease") ||
      !info["lease"].contains("presumed_expired") ||
      !info["lease"]["presumed_expired"].is_boolean()) {
    return std::nullopt;
  }
  return info["lease"]["presumed_expired"].get<bool>();
}

// 4. With default settings (TTL 30 s, outage budget 60 s), all three etcd
// members down for 45 s under load: every node answers 200 throughout,
// reports the coordinator down (and, past the lease deadline, the lease
// presumed expired), recovers when etcd is back, and no ID repeats.
TEST(EtcdOutageTest, WholeEtcdDown45SecondsUnderLoadKeepsIssuing) {
  EtcdLauncherOptions options;
  options.members = 3;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "outage");
  auto nodes = scenario.StartAll({{"n1", "", kDefaultTtl},
                                  {"n2", "", kDefaultTtl},
                                  {"n3", "", kDefaultTtl}});
  for (auto& node : nodes) ASSERT_TRUE(node->ready()) << node->Log();
  auto loads = LoadAll(scenario, nodes);
  std::this_thread::sleep_for(std::chrono::seconds(2));

  const auto down = SteadyClock::now();
  for (int i = 0; i < etcd->size(); ++i) ASSERT_TRUE(etcd->Kill(i).ok());
  std::this_thread::sleep_until(down + std::chrono::seconds(38));
  // Past the lease deadline (TTL 30 s after the last keep-alive).
  for (auto& node : nodes) {
    const nlohmann::json info = Info(node->port());
    ASSERT_TRUE(info.is_object()) << "no /v1/info 38 s into the outage\n"
                                  << node->Log();
    EXPECT_EQ(info["lease"]["coordinator_up"], false) << info["lease"].dump();
    EXPECT_EQ(PresumedExpired(info), true)
        << "/v1/info does not say the lease is presumed expired: "
        << info["lease"].dump();
  }
  std::this_thread::sleep_until(down + std::chrono::seconds(45));
  for (int i = 0; i < etcd->size(); ++i) {
    ASSERT_TRUE(etcd->Restart(i, /*wait_healthy=*/i == etcd->size() - 1).ok())
        << "member " << i;
  }
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ExpectNoFailures(loads, down, SteadyClock::now(),
                   "during the 45 s outage and 5 s after it");
  for (auto& node : nodes) {
    EXPECT_TRUE(Eventually([&] { return Serving(node->port()); },
                           std::chrono::seconds(10)))
        << node->Log();
  }
  for (auto& load : loads) load->Stop();
  for (auto& node : nodes) StopNode(*node);
  std::printf("45 s outage: %zu IDs\n", scenario.ExpectAllUnique());
}

}  // namespace
}  // namespace snowflake::testing
