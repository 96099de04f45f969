// Worker-ID leases on a real etcd (issue 4), the scenarios that run against
// etcd only: layout mismatch, a clock behind the stored high-water mark, and
// TLS. Starts, crashes, pauses, graceful stops, member and quorum loss run
// against both coordinators in coordinator_test.cc. Every ID any node hands out
// in a scenario is recorded and checked for repeats at its end.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/etcd_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace schema = cluster_schema;

constexpr char kPrefix[] = "/snowflake";

bool WorkerKeyExists(etcd::EtcdClient& client, const std::string& cluster,
                     int64_t id) {
  auto kv = client.Get(schema::WorkerKey(kPrefix, cluster, id));
  return kv.ok() && kv->has_value();
}

// Stops a node with SIGTERM and expects a clean exit.
void Stop(DaemonProcess& node) {
  node.Signal(SIGTERM);
  EXPECT_EQ(node.Wait(std::chrono::seconds(15)), 0) << node.Log();
}

// 1. A node whose layout or epoch differs from the cluster's stored config
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

// 2. A node whose clock is behind the HWM stored in etcd waits until it
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

// A node's wall clock set from a file libfaketime reads at every call, so
// that a test steps it while the node runs (write "+3600" or "+0").
class SteppedClock {
 public:
  explicit SteppedClock(std::string path) : path_(std::move(path)) {
    Set("+0");
  }
  void Set(const std::string& offset) const {
    std::ofstream(path_, std::ios::trunc) << offset << "\n";
  }
  std::vector<std::pair<std::string, std::string>> Env() const {
    return {{"LD_PRELOAD", LIBFAKETIME_PATH},
            {"FAKETIME_TIMESTAMP_FILE", path_},
            {"FAKETIME_NO_CACHE", "1"},
            {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
  }

 private:
  std::string path_;
};

// 3. A clock far behind the node's own last ID (an hour forward and back
// again, or an hour back) would stop the node for that hour. Instead it
// gives the worker ID up (the ID's stored mark keeps fencing it) and
// serves under another free ID within seconds; nothing repeats.
TEST(EtcdLeaseTest, ClockFarBehindItsLastIdSwitchesWorker) {
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd({});
  ASSERT_NE(etcd, nullptr);
  Scenario scenario(*etcd, "switch");
  const SteppedClock clock(scenario.dir() + "/clock");
  clock.Set("+3600");
  auto node = scenario.Start({"jumper", "3-5", 2, {}, clock.Env()});
  ASSERT_TRUE(node->ready()) << node->Log();
  const std::vector<uint64_t> ahead = TakeSome(scenario, *node, 2);
  const int64_t first = OnlyWorker(scenario, ahead);
  ASSERT_GE(first, 3);

  // Back to true time: an hour behind the IDs just issued.
  clock.Set("+0");
  const std::vector<uint64_t> back = TakeSome(scenario, *node, 2);
  const int64_t second = OnlyWorker(scenario, back);
  EXPECT_GE(second, 3);
  EXPECT_NE(second, first);
  EXPECT_THAT(node->Log(), HasSubstr("event=worker_switch"));

  // An hour back from true time: the same again, to the last free ID.
  clock.Set("-3600");
  const std::vector<uint64_t> behind = TakeSome(scenario, *node, 2);
  const int64_t third = OnlyWorker(scenario, behind);
  EXPECT_GE(third, 3);
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  clock.Set("+0");
  TakeSome(scenario, *node, 2);
  Stop(*node);
  scenario.ExpectAllUnique();
}

// 4. TLS: with the CA and a client certificate the node serves; without
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
