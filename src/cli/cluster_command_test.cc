// `snowflake cluster` against a real etcd (EtcdLauncher): keys written in
// the schema's format with EtcdClient, then read back through the command
// line, as text and as JSON.
#include "src/cli/cluster_command.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/cli/cli.h"
#include "src/cli/fence_restore.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "testing/etcd_launcher.h"
#include "testing/etcd_test_util.h"
#include "testing/simulated_clock.h"

namespace snowflake::cli {
namespace {

using ::snowflake::testing::ConnectEtcd;
using ::snowflake::testing::EtcdLauncher;
using ::snowflake::testing::EtcdLauncherOptions;
using ::snowflake::testing::SharedEtcdTest;
using ::snowflake::testing::StartEtcd;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// 2025-01-01T00:00:00.000Z and a HWM 1.5 s later.
constexpr int64_t kNowMillis = 1735689600000;
constexpr int64_t kHwmMillis = kNowMillis + 1500;

std::string HwmText(int64_t millis) {
  return cluster_schema::EncodeHwm(millis);
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result Snowflake(const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  snowflake::testing::SimulatedClock clock(kNowMillis * 1000);
  ClusterCommand cluster;
  ExtraCommand* const extra[] = {&cluster};
  Result result;
  result.code = RunCli(args, clock, io, extra);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// Writes what two running nodes of cluster `cluster` would keep: the config,
// two holders bound to one lease each, their HWMs, and the HWM of a third,
// free worker ID.
void WriteCluster(etcd::EtcdClient& client, const std::string& prefix,
                  const std::string& cluster) {
  namespace schema = cluster_schema;
  ASSERT_TRUE(client
                  .Put(schema::ConfigKey(prefix, cluster),
                       R"({"layout":"41/10/12 unit=1ms epoch=1288834974657",)"
                       R"("worker_bits":10,"epoch_ms":1288834974657})")
                  .ok());
  for (int64_t id : {3, 7}) {
    absl::StatusOr<etcd::Lease> lease = client.LeaseGrant(60);
    ASSERT_TRUE(lease.ok()) << lease.status();
    schema::Holder holder;
    holder.node = "node-" + std::to_string(id);
    holder.worker_id = id;
    holder.addresses = {"127.0.0.1:80" + std::to_string(id), "10.0.0.1:80"};
    holder.region = "eu-west";
    holder.start_unix_millis = kNowMillis - 60000;
    holder.lease = lease->id;
    ASSERT_TRUE(client
                    .Put(schema::WorkerKey(prefix, cluster, id),
                         schema::EncodeHolder(holder), lease->id)
                    .ok());
    ASSERT_TRUE(client
                    .Put(schema::HwmKey(prefix, cluster, id),
                         schema::EncodeHwm(kHwmMillis + id))
                    .ok());
  }
  ASSERT_TRUE(client
                  .Put(schema::HwmKey(prefix, cluster, 9),
                       schema::EncodeHwm(kNowMillis - 1000))
                  .ok());
}

class ClusterCommandTest : public SharedEtcdTest<ClusterCommandTest> {};

TEST_F(ClusterCommandTest, TableListsHoldersHwmsLeaseLeftAndFreeCount) {
  WriteCluster(*client_, cluster_schema::kDefaultPrefix, "prod");
  const Result r = Snowflake(
      {"cluster", "--etcd", etcd_->ClientUrl(0), "--cluster", "prod"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr("cluster  prod (prefix /snowflake)"));
  EXPECT_THAT(r.out, HasSubstr("41/10/12"));
  EXPECT_THAT(r.out, HasSubstr("range    0-1023 (the layout's): 2 held, "
                               "1022 free"));
  EXPECT_THAT(r.out, HasSubstr("WORKER"));
  EXPECT_THAT(r.out, HasSubstr("LEASE_LEFT"));
  for (int id : {3, 7}) {
    const std::string row_start = std::to_string(id) + " ";
    EXPECT_THAT(r.out, HasSubstr("\n" + row_start)) << r.out;
    EXPECT_THAT(r.out, HasSubstr("node-" + std::to_string(id)));
    EXPECT_THAT(
        r.out, HasSubstr("127.0.0.1:80" + std::to_string(id) + ",10.0.0.1:80"));
    EXPECT_THAT(r.out, HasSubstr(std::to_string(kHwmMillis + id)));
  }
  EXPECT_THAT(r.out, HasSubstr("eu-west"));
  EXPECT_THAT(r.out, HasSubstr("2025-01-01T00:00:01.503Z"));
  // Granted 60 s moments ago: etcd reports 58 to 60 s left.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("(58|59|60)s\n"));
  // The free ID with a stored HWM is no holder.
  EXPECT_THAT(r.out, Not(HasSubstr("\n9 ")));
}

TEST_F(ClusterCommandTest, JsonHasEveryField) {
  WriteCluster(*client_, "/custom/prefix", "json");
  const Result r = Snowflake(
      {"cluster", "--etcd", etcd_->ClientUrl(0) + "," + etcd_->ClientUrl(0),
       "--cluster", "json", "--prefix", "/custom/prefix/", "--worker-range",
       "0-5", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["cluster"], "json");
  EXPECT_EQ(json["prefix"], "/custom/prefix");
  EXPECT_EQ(json["config"]["worker_bits"], 10);
  // Only worker 3 lies in 0-5.
  EXPECT_EQ(json["range"]["first"], 0);
  EXPECT_EQ(json["range"]["last"], 5);
  EXPECT_EQ(json["range"]["held"], 1);
  EXPECT_EQ(json["range"]["free"], 5);
  ASSERT_EQ(json["holders"].size(), 2u) << r.out;
  const nlohmann::json& h = json["holders"][0];
  EXPECT_EQ(h["worker_id"], 3);
  EXPECT_EQ(h["in_range"], true);
  EXPECT_EQ(json["holders"][1]["in_range"], false);
  EXPECT_EQ(h["node"], "node-3");
  EXPECT_EQ(h["addresses"],
            nlohmann::json::array({"127.0.0.1:803", "10.0.0.1:80"}));
  EXPECT_EQ(h["region"], "eu-west");
  EXPECT_EQ(h["hwm_ms"], kHwmMillis + 3);
  EXPECT_EQ(h["hwm"], "2025-01-01T00:00:01.503Z");
  EXPECT_EQ(h["hwm_ahead_ms"], 1503);
  EXPECT_EQ(h["start_ms"], kNowMillis - 60000);
  EXPECT_EQ(h["start"], "2024-12-31T23:59:00.000Z");
  EXPECT_GE(h["lease_left_s"].get<int64_t>(), 58);
  EXPECT_LE(h["lease_left_s"].get<int64_t>(), 60);
  EXPECT_NE(h["lease"].get<std::string>(), "0");
  ASSERT_EQ(json["free_with_hwm"].size(), 1u);
  EXPECT_EQ(json["free_with_hwm"][0]["worker_id"], 9);
  EXPECT_EQ(json["free_with_hwm"][0]["hwm_ms"], kNowMillis - 1000);
}

TEST_F(ClusterCommandTest, RevokedLeaseFreesTheIdInTheListing) {
  WriteCluster(*client_, cluster_schema::kDefaultPrefix, "revoked");
  auto kv = client_->Get(
      cluster_schema::WorkerKey(cluster_schema::kDefaultPrefix, "revoked", 7));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  ASSERT_TRUE(client_->LeaseRevoke((*kv)->lease).ok());
  const Result r = Snowflake({"cluster", "--etcd", etcd_->ClientUrl(0),
                              "--cluster", "revoked", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json["holders"].size(), 1u);
  EXPECT_EQ(json["holders"][0]["worker_id"], 3);
  EXPECT_EQ(json["range"]["held"], 1);
  // Worker 7's HWM outlives its holder.
  ASSERT_EQ(json["free_with_hwm"].size(), 2u);
  EXPECT_EQ(json["free_with_hwm"][0]["worker_id"], 7);
}

TEST_F(ClusterCommandTest, EmptyClusterSaysSo) {
  const Result r = Snowflake(
      {"cluster", "--etcd", etcd_->ClientUrl(0), "--cluster", "nothing"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("config   none"));
  EXPECT_THAT(r.out, HasSubstr("0 held, 1024 free"));
  EXPECT_THAT(r.out, HasSubstr("no worker ID is held"));
}

// Issue 9 point 18: `snowflake cluster` looks at one cluster ("default"
// unless --cluster); `snowflake cluster list` finds the clusters that exist
// under the prefix, and a cluster with no keys names them.
TEST_F(ClusterCommandTest, ListFindsEveryClusterUnderThePrefix) {
  const std::string prefix = "/list-test";
  WriteCluster(*client_, prefix, "prod");
  WriteCluster(*client_, prefix, "staging");
  ASSERT_TRUE(client_
                  ->Put(cluster_schema::HwmKey(prefix, "retired", 4),
                        cluster_schema::EncodeHwm(kNowMillis))
                  .ok());
  // Another prefix that begins with the same letters is not listed.
  WriteCluster(*client_, prefix + "2", "elsewhere");

  const Result r = Snowflake(
      {"cluster", "list", "--etcd", etcd_->ClientUrl(0), "--prefix", prefix});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr("3 clusters under /list-test"));
  EXPECT_THAT(r.out, HasSubstr("CLUSTER"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nprod +2 +0 +3 +\\{"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nstaging +2 +0 +3 +\\{"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nretired +0 +0 +1 +none\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("elsewhere")));

  // The flags of `snowflake cluster` work before "list" too, and --json.
  const Result json = Snowflake({"cluster", "--etcd", etcd_->ClientUrl(0),
                                 "--prefix", prefix + "/", "--json", "list"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["prefix"], prefix);
  ASSERT_EQ(parsed["clusters"].size(), 3u) << json.out;
  EXPECT_EQ(parsed["clusters"][0]["cluster"], "prod");
  EXPECT_EQ(parsed["clusters"][0]["held"], 2);
  EXPECT_EQ(parsed["clusters"][0]["hwms"], 3);
  EXPECT_TRUE(parsed["clusters"][1]["config"].is_null());  // retired
  EXPECT_EQ(parsed["clusters"][2]["cluster"], "staging");

  // The default cluster does not exist here: the listing says which do.
  const Result missing =
      Snowflake({"cluster", "--etcd", etcd_->ClientUrl(0), "--prefix", prefix});
  ASSERT_EQ(missing.code, kExitOk) << missing.err;
  EXPECT_THAT(missing.out,
              HasSubstr("no key of cluster \"default\" under /list-test; "
                        "clusters there: prod,retired,staging (snowflake "
                        "cluster list)"));

  const Result none = Snowflake(
      {"cluster", "list", "--etcd", etcd_->ClientUrl(0), "--prefix", "/none"});
  ASSERT_EQ(none.code, kExitOk) << none.err;
  EXPECT_THAT(none.out, HasSubstr("no cluster under /none"));
}

TEST_F(ClusterCommandTest, UnreadableEntriesAreShownNotFatal) {
  ASSERT_TRUE(client_->Put("/snowflake/bad/config", "layout 41/8/14").ok());
  ASSERT_TRUE(client_->Put("/snowflake/bad/workers/4", "{not json").ok());
  const Result r =
      Snowflake({"cluster", "--etcd", etcd_->ClientUrl(0), "--cluster", "bad"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(unreadable entry)"));
  // Worker bits from a text config.
  EXPECT_THAT(r.out, HasSubstr("range    0-255 (the layout's): 1 held"));
}

TEST_F(ClusterCommandTest, ListsAConfigWithARegionMap) {
  ASSERT_TRUE(client_
                  ->Put("/snowflake/regions/config",
                        cluster_schema::EncodeClusterConfig(
                            *Layout::Parse("41/8/14"),
                            RegionMap::Parse("us=0-99,eu=100-199").value()))
                  .ok());
  const Result r = Snowflake(
      {"cluster", "--etcd", etcd_->ClientUrl(0), "--cluster", "regions"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("regions=eu=100-199,us=0-99"));
  EXPECT_THAT(r.out, HasSubstr("range    0-255 (the layout's)"));
}

// fence-restore: the target of the tests' clock with the default flags.
constexpr int64_t kFenceTarget = kNowMillis + 60'000 + 1'000;

class FenceRestoreTest : public ClusterCommandTest {
 protected:
  // A cluster of the default layout (1024 worker IDs) with the marks given.
  void WriteFenceCluster(const std::string& cluster,
                         const std::map<int64_t, std::string>& marks) {
    ASSERT_TRUE(client_
                    ->Put(cluster_schema::ConfigKey(
                              cluster_schema::kDefaultPrefix, cluster),
                          cluster_schema::EncodeClusterConfig(Layout(), {}))
                    .ok());
    for (const auto& [id, value] : marks) {
      ASSERT_TRUE(client_
                      ->Put(cluster_schema::HwmKey(
                                cluster_schema::kDefaultPrefix, cluster, id),
                            value)
                      .ok());
    }
  }

  // Every stored mark of `cluster`, by worker ID.
  std::map<int64_t, std::string> Marks(const std::string& cluster) {
    std::map<int64_t, std::string> marks;
    auto kvs = client_->GetPrefix(
        cluster_schema::HwmPrefix(cluster_schema::kDefaultPrefix, cluster));
    EXPECT_TRUE(kvs.ok()) << kvs.status();
    if (!kvs.ok()) return marks;
    for (const etcd::KeyValue& kv : *kvs) {
      marks[cluster_schema::IdOfKey(kv.key).value_or(-1)] = kv.value;
    }
    return marks;
  }

  int64_t Mark(const std::string& cluster, int64_t id) {
    auto marks = Marks(cluster);
    auto it = marks.find(id);
    if (it == marks.end()) return -1;
    return cluster_schema::DecodeHwm(it->second).value_or(-2);
  }

  ClusterFlags Flags(const std::string& cluster) {
    ClusterFlags flags;
    flags.endpoints = {etcd_->ClientUrl(0)};
    flags.cluster = cluster;
    flags.json = true;
    return flags;
  }
};

TEST_F(FenceRestoreTest, RaisesEveryWorkerIdOfTheLayout) {
  const int64_t higher = kFenceTarget + 600'000;
  WriteFenceCluster("fence", {{3, HwmText(kNowMillis + 1503)},
                              {7, HwmText(higher)},
                              {9, HwmText(kNowMillis - 1000)},
                              {5, "garbage"}});
  const Result r = Snowflake({"cluster", "fence-restore", "--etcd",
                              etcd_->ClientUrl(0), "--cluster", "fence"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr("worker IDs 0-1023 (the layout's)"));
  EXPECT_THAT(r.out, HasSubstr("2025-01-01T00:01:01.000Z (1735689661000 ms)"));
  EXPECT_THAT(r.out, HasSubstr("fenced   1023 worker IDs to the target: 2 "
                               "raised, 1020 created, 1 unreadable replaced; "
                               "1 already at or above it"));

  const std::map<int64_t, std::string> marks = Marks("fence");
  ASSERT_EQ(marks.size(), 1024u);
  for (const auto& [id, value] : marks) {
    const int64_t mark = cluster_schema::DecodeHwm(value).value_or(-1);
    if (id == 7) {
      EXPECT_EQ(mark, higher) << "a higher mark is never lowered";
    } else {
      EXPECT_EQ(mark, kFenceTarget) << id;
    }
  }

  // Again: nothing left to do.
  const Result again =
      Snowflake({"cluster", "fence-restore", "--etcd", etcd_->ClientUrl(0),
                 "--cluster", "fence", "--json"});
  ASSERT_EQ(again.code, kExitOk) << again.err;
  const nlohmann::json json = nlohmann::json::parse(again.out);
  EXPECT_EQ(json["fenced"], 0);
  EXPECT_EQ(json["unchanged"], 1024);
  EXPECT_EQ(json["transactions"], 0);
}

TEST_F(FenceRestoreTest, JsonCountsAndBatchesOfAHundred) {
  WriteFenceCluster("fence-json", {{3, HwmText(kNowMillis)}});
  const Result r =
      Snowflake({"cluster", "--etcd", etcd_->ClientUrl(0), "--cluster",
                 "fence-json", "--json", "fence-restore", "--outage-budget",
                 "120", "--max-clock-skew-ms", "250"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  const int64_t target = kNowMillis + 120'000 + 250;
  EXPECT_EQ(json["cluster"], "fence-json");
  EXPECT_EQ(json["range"]["first"], 0);
  EXPECT_EQ(json["range"]["last"], 1023);
  EXPECT_EQ(json["target_ms"], target);
  EXPECT_EQ(json["target"], "2025-01-01T00:02:00.250Z");
  EXPECT_EQ(json["dry_run"], false);
  EXPECT_EQ(json["fenced"], 1024);
  EXPECT_EQ(json["raised"], 1);
  EXPECT_EQ(json["created"], 1023);
  EXPECT_EQ(json["unchanged"], 0);
  EXPECT_EQ(json["conflicts"], 0);
  EXPECT_EQ(json["transactions"], 11);  // 1024 keys, 100 a transaction.
  EXPECT_EQ(Mark("fence-json", 3), target);
  EXPECT_EQ(Mark("fence-json", 1023), target);
}

TEST_F(FenceRestoreTest, WorkerRangeLimitsIt) {
  WriteFenceCluster("fence-range", {});
  const Result r =
      Snowflake({"cluster", "fence-restore", "--etcd", etcd_->ClientUrl(0),
                 "--cluster", "fence-range", "--worker-range", "10-12"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("worker IDs 10-12\n"));
  EXPECT_THAT(r.out, HasSubstr("fenced   3 worker IDs"));
  const std::map<int64_t, std::string> marks = Marks("fence-range");
  ASSERT_EQ(marks.size(), 3u);
  EXPECT_EQ(marks.begin()->first, 10);
  EXPECT_EQ(marks.rbegin()->first, 12);
}

TEST_F(FenceRestoreTest, DryRunWritesNothing) {
  WriteFenceCluster("fence-dry", {{3, HwmText(kNowMillis)}});
  const Result r =
      Snowflake({"cluster", "fence-restore", "--etcd", etcd_->ClientUrl(0),
                 "--cluster", "fence-dry", "--dry-run"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("would fence 1024 worker IDs to the target: 1 "
                               "raised, 1023 created"));
  EXPECT_THAT(r.out, HasSubstr("dry run: nothing was written"));
  EXPECT_EQ(Marks("fence-dry").size(), 1u);
  EXPECT_EQ(Mark("fence-dry", 3), kNowMillis);
}

TEST_F(FenceRestoreTest, ConflictsAreRetriedAndNeverLowerAMark) {
  WriteFenceCluster("fence-race",
                    {{3, HwmText(kNowMillis)}, {4, HwmText(kNowMillis)}});
  const int64_t higher = kFenceTarget + 5'000;
  int calls = 0;
  // Between the command's read and its first write, a node raises mark 4
  // past the target, and mark 3 a little (and a new mark 5 appears): the
  // first transaction fails its compares.
  auto race = [&] {
    if (calls++ > 0) return;
    ASSERT_TRUE(client_
                    ->Put(cluster_schema::HwmKey(cluster_schema::kDefaultPrefix,
                                                 "fence-race", 4),
                          HwmText(higher))
                    .ok());
    ASSERT_TRUE(client_
                    ->Put(cluster_schema::HwmKey(cluster_schema::kDefaultPrefix,
                                                 "fence-race", 3),
                          HwmText(kNowMillis + 10))
                    .ok());
    ASSERT_TRUE(client_
                    ->Put(cluster_schema::HwmKey(cluster_schema::kDefaultPrefix,
                                                 "fence-race", 5),
                          HwmText(kNowMillis + 10))
                    .ok());
  };
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  snowflake::testing::SimulatedClock clock(kNowMillis * 1000);
  ASSERT_EQ(FenceRestore(Flags("fence-race"), {}, clock, io, race), kExitOk)
      << err.str();
  const nlohmann::json json = nlohmann::json::parse(out.str());
  EXPECT_EQ(json["conflicts"], 1);
  EXPECT_EQ(json["transactions"], 12);
  EXPECT_EQ(json["unchanged"], 1);
  EXPECT_EQ(json["raised"], 2);  // 3 and 5.
  EXPECT_EQ(json["created"], 1021);
  EXPECT_EQ(Mark("fence-race", 4), higher);
  EXPECT_EQ(Mark("fence-race", 3), kFenceTarget);
  EXPECT_EQ(Mark("fence-race", 5), kFenceTarget);
  EXPECT_EQ(Marks("fence-race").size(), 1024u);
}

TEST_F(FenceRestoreTest, GivesUpOnAKeyThatNeverSettles) {
  WriteFenceCluster("fence-busy", {});
  int64_t value = kNowMillis;
  auto busy = [&] {
    ASSERT_TRUE(client_
                    ->Put(cluster_schema::HwmKey(cluster_schema::kDefaultPrefix,
                                                 "fence-busy", 1),
                          HwmText(++value))
                    .ok());
  };
  FencePlan plan;
  plan.prefix = cluster_schema::kDefaultPrefix;
  plan.cluster = "fence-busy";
  plan.range = WorkerRange{0, 2};
  plan.target_millis = kFenceTarget;
  absl::StatusOr<FenceResult> result = RaiseHwms(*client_, plan, busy);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("kept changing"));
  // Nothing below the target was written over the busy key.
  EXPECT_LT(Mark("fence-busy", 1), kFenceTarget);
}

TEST_F(FenceRestoreTest, NoSuchClusterAndBadFlags) {
  const Result missing =
      Snowflake({"cluster", "fence-restore", "--etcd", etcd_->ClientUrl(0),
                 "--cluster", "nowhere"});
  EXPECT_EQ(missing.code, kExitBadData);
  EXPECT_THAT(missing.err,
              HasSubstr("snowflake: cluster fence-restore: no such cluster: "
                        "etcd key /snowflake/nowhere/config does not exist"));
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_TRUE(Marks("nowhere").empty());

  WriteFenceCluster("fence-flags", {});
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{
           {"--outage-budget", "0"},
           {"--max-clock-skew-ms", "-1"},
           {"--worker-range", "1000-1024"},
           {"--worker-range", "9-1"},
           {"--outage-budget", "soon"},
       }) {
    std::vector<std::string> args = {"cluster",   "fence-restore",
                                     "--etcd",    etcd_->ClientUrl(0),
                                     "--cluster", "fence-flags"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = Snowflake(args);
    EXPECT_EQ(r.code, kExitUsage) << extra[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("snowflake: cluster")) << extra[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_TRUE(Marks("fence-flags").empty());

  // A config without recognisable worker bits needs --worker-range.
  ASSERT_TRUE(client_->Put("/snowflake/odd/config", "something else").ok());
  const Result odd = Snowflake({"cluster", "fence-restore", "--etcd",
                                etcd_->ClientUrl(0), "--cluster", "odd"});
  EXPECT_EQ(odd.code, kExitBadData);
  EXPECT_THAT(odd.err, HasSubstr("give --worker-range"));
}

TEST(ClusterCommandErrorsTest, BadFlagsAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"cluster"},
           {"cluster", "--etcd", "http://127.0.0.1:1", "--worker-range", "5-2"},
           {"cluster", "--etcd", "http://127.0.0.1:1", "--prefix", "x"},
           {"cluster", "--etcd", "http://127.0.0.1:1", "--cluster", "a/b"},
           {"cluster", "--etcd", "ftp://127.0.0.1:1"},
       }) {
    const Result r = Snowflake(args);
    EXPECT_EQ(r.code, kExitUsage) << args.back() << ": " << r.err;
    EXPECT_THAT(r.err, AllOf(HasSubstr("snowflake: cluster"),
                             ::testing::EndsWith("\n")));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(ClusterCommandErrorsTest, UnreachableEtcdFailsWithOneLine) {
  const Result r = Snowflake(
      {"cluster", "--etcd", "http://127.0.0.1:1", "--timeout-ms", "300"});
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.err, HasSubstr("snowflake: cluster: cannot read the cluster "
                               "from etcd"));
  EXPECT_THAT(r.err, HasSubstr("http://127.0.0.1:1"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(ClusterCommandTlsTest, ReadsOverTlsWithClientCertificates) {
  EtcdLauncherOptions options;
  options.tls = true;
  std::unique_ptr<EtcdLauncher> etcd = StartEtcd(options);
  ASSERT_NE(etcd, nullptr);
  const auto& files = etcd->tls_files();
  etcd::Options client_options;
  client_options.endpoints = etcd->ClientUrls();
  client_options.tls = etcd::TlsOptions{files.ca_file, files.client_cert_file,
                                        files.client_key_file};
  std::unique_ptr<etcd::EtcdClient> client = ConnectEtcd(client_options);
  ASSERT_NE(client, nullptr);
  WriteCluster(*client, cluster_schema::kDefaultPrefix, "tls");

  const Result ok =
      Snowflake({"cluster", "--etcd", etcd->ClientUrl(0), "--cluster", "tls",
                 "--ca", files.ca_file, "--cert", files.client_cert_file,
                 "--key", files.client_key_file, "--json"});
  ASSERT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["holders"].size(), 2u);

  // Without a client certificate etcd refuses the connection.
  const Result refused =
      Snowflake({"cluster", "--etcd", etcd->ClientUrl(0), "--cluster", "tls",
                 "--ca", files.ca_file, "--timeout-ms", "1000"});
  EXPECT_EQ(refused.code, kExitBadData);
  EXPECT_THAT(refused.err, HasSubstr("cannot read the cluster from etcd"));
}

}  // namespace
}  // namespace snowflake::cli
