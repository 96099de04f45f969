// `snowflake cluster` on both coordinators: the same tree written to a real
// etcd (EtcdLauncher) and to a real ZooKeeper (ZooKeeperLauncher), read back
// through the command line. One parameterized suite, plus a test that holds
// the two outputs to each other and ZooKeeper's own failure cases.
// cluster_command_test.cc has the etcd-only cases (TLS, lease revocation).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/cli/cli.h"
#include "src/cli/cluster_command.h"
#include "src/cli/fence_restore.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "src/zookeeper/zookeeper_client.h"
#include "testing/etcd_launcher.h"
#include "testing/etcd_test_util.h"
#include "testing/simulated_clock.h"
#include "testing/zookeeper_launcher.h"

namespace snowflake::cli {
namespace {

namespace schema = cluster_schema;
using ::snowflake::testing::ConnectEtcd;
using ::snowflake::testing::EtcdLauncher;
using ::snowflake::testing::StartEtcd;
using ::snowflake::testing::ZooKeeperLauncher;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// 2025-01-01T00:00:00.000Z and a HWM 1.5 s later.
constexpr int64_t kNowMillis = 1735689600000;
constexpr int64_t kHwmMillis = kNowMillis + 1500;

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

enum class Coordinator { kEtcd, kZooKeeper };

std::string NameOf(Coordinator c) {
  return c == Coordinator::kEtcd ? "Etcd" : "ZooKeeper";
}

// Writes entries of the cluster tree to one coordinator, the way nodes do.
class TreeWriter {
 public:
  virtual ~TreeWriter() = default;
  // The command-line flags that point `snowflake cluster` at it.
  virtual std::vector<std::string> Flags() const = 0;
  // Writes `value` at `key`; with `session`, bound to the writer's session
  // (etcd: a lease of 60 s; ZooKeeper: an ephemeral znode), as workers/<id>.
  virtual void Put(const std::string& key, const std::string& value,
                   bool session) = 0;
  // What --json's "lease" says of an entry written with `session`; empty
  // when it is not known in advance (an etcd lease per entry).
  virtual std::string SessionLease() const = 0;
};

class EtcdWriter final : public TreeWriter {
 public:
  explicit EtcdWriter(EtcdLauncher& etcd)
      : etcd_(etcd), client_(ConnectEtcd(etcd)) {}
  std::vector<std::string> Flags() const override {
    return {"--etcd", etcd_.ClientUrl(0)};
  }
  void Put(const std::string& key, const std::string& value,
           bool session) override {
    ASSERT_NE(client_, nullptr);
    int64_t lease = 0;
    if (session) {
      absl::StatusOr<etcd::Lease> granted = client_->LeaseGrant(60);
      ASSERT_TRUE(granted.ok()) << granted.status();
      lease = granted->id;
    }
    ASSERT_TRUE(client_->Put(key, value, lease).ok()) << key;
  }
  std::string SessionLease() const override { return ""; }

 private:
  EtcdLauncher& etcd_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

class ZooKeeperWriter final : public TreeWriter {
 public:
  explicit ZooKeeperWriter(const ZooKeeperLauncher& zookeeper)
      : hosts_(zookeeper.ConnectString()) {
    zookeeper::ZooKeeperOptions options;
    options.hosts = hosts_;
    absl::StatusOr<std::unique_ptr<zookeeper::ZooKeeperClient>> client =
        zookeeper::ZooKeeperClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (client.ok()) client_ = *std::move(client);
  }
  std::vector<std::string> Flags() const override {
    return {"--zookeeper", hosts_};
  }
  void Put(const std::string& key, const std::string& value,
           bool session) override {
    ASSERT_NE(client_, nullptr);
    // The parents, persistent, as the nodes make them.
    for (size_t slash = key.find('/', 1); slash != std::string::npos;
         slash = key.find('/', slash + 1)) {
      absl::StatusOr<zookeeper::NodeStat> made = client_->Create(
          key.substr(0, slash), "", zookeeper::CreateMode::kPersistent);
      ASSERT_TRUE(made.ok() || absl::IsAlreadyExists(made.status()))
          << made.status();
    }
    absl::StatusOr<zookeeper::NodeStat> made =
        client_->Create(key, value,
                        session ? zookeeper::CreateMode::kEphemeral
                                : zookeeper::CreateMode::kPersistent);
    if (absl::IsAlreadyExists(made.status())) {
      ASSERT_TRUE(client_->Set(key, value, zookeeper::kAnyVersion).ok());
      return;
    }
    ASSERT_TRUE(made.ok()) << made.status();
  }
  std::string SessionLease() const override {
    return fmt::format("session 0x{:x}",
                       static_cast<uint64_t>(client_->session_id()));
  }
  zookeeper::ZooKeeperClient& client() { return *client_; }

 private:
  std::string hosts_;
  std::unique_ptr<zookeeper::ZooKeeperClient> client_;
};

// What two running nodes of `cluster` keep: the config, two holders bound
// to their sessions, their HWMs, and the HWM of a third, free worker ID.
void WriteCluster(TreeWriter& writer, const std::string& prefix,
                  const std::string& cluster) {
  writer.Put(schema::ConfigKey(prefix, cluster),
             R"({"layout":"41/10/12 unit=1ms epoch=1288834974657",)"
             R"("worker_bits":10,"epoch_ms":1288834974657})",
             false);
  for (int64_t id : {3, 7}) {
    schema::Holder holder;
    holder.node = "node-" + std::to_string(id);
    holder.worker_id = id;
    holder.addresses = {"127.0.0.1:80" + std::to_string(id), "10.0.0.1:80"};
    holder.region = "eu-west";
    holder.start_unix_millis = kNowMillis - 60000;
    writer.Put(schema::WorkerKey(prefix, cluster, id),
               schema::EncodeHolder(holder), true);
    writer.Put(schema::HwmKey(prefix, cluster, id),
               schema::EncodeHwm(kHwmMillis + id), false);
  }
  writer.Put(schema::HwmKey(prefix, cluster, 9),
             schema::EncodeHwm(kNowMillis - 1000), false);
}

// Both coordinators, started once for every test here.
class BothCoordinators {
 public:
  // Idempotent.
  static void Start() {
    if (etcd_ != nullptr) return;
    etcd_ = StartEtcd().release();
    absl::StatusOr<std::unique_ptr<ZooKeeperLauncher>> zookeeper =
        ZooKeeperLauncher::Start();
    EXPECT_TRUE(zookeeper.ok()) << zookeeper.status();
    if (zookeeper.ok()) zookeeper_ = zookeeper->release();
  }
  static void Stop() {
    delete etcd_;
    etcd_ = nullptr;
    delete zookeeper_;
    zookeeper_ = nullptr;
  }
  static std::unique_ptr<TreeWriter> Writer(Coordinator c) {
    if (c == Coordinator::kEtcd) {
      if (etcd_ == nullptr) return nullptr;
      return std::make_unique<EtcdWriter>(*etcd_);
    }
    if (zookeeper_ == nullptr) return nullptr;
    return std::make_unique<ZooKeeperWriter>(*zookeeper_);
  }
  static inline EtcdLauncher* etcd_ = nullptr;
  static inline ZooKeeperLauncher* zookeeper_ = nullptr;
};

// Tests that write to both coordinators.
class BothCoordinatorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { BothCoordinators::Start(); }
  static void TearDownTestSuite() { BothCoordinators::Stop(); }
};

// Tests that run once per coordinator.
class ClusterOnCoordinatorTest : public ::testing::TestWithParam<Coordinator> {
 protected:
  static void SetUpTestSuite() { BothCoordinators::Start(); }
  static void TearDownTestSuite() { BothCoordinators::Stop(); }
  void SetUp() override {
    writer_ = BothCoordinators::Writer(GetParam());
    ASSERT_NE(writer_, nullptr);
  }
  Result Run(std::vector<std::string> args) {
    std::vector<std::string> flags = writer_->Flags();
    args.insert(args.begin() + 1, flags.begin(), flags.end());
    return Snowflake(args);
  }

  std::unique_ptr<TreeWriter> writer_;
};

TEST_P(ClusterOnCoordinatorTest, TableListsHoldersHwmsAndFreeCount) {
  WriteCluster(*writer_, schema::kDefaultPrefix, "prod");
  const Result r = Run({"cluster", "--cluster", "prod"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr("cluster  prod (prefix /snowflake)"));
  EXPECT_THAT(r.out, HasSubstr("41/10/12"));
  EXPECT_THAT(r.out, HasSubstr("range    0-1023 (the layout's): 2 held, "
                               "1022 free"));
  EXPECT_THAT(r.out, HasSubstr("LEASE_LEFT"));
  for (int id : {3, 7}) {
    EXPECT_THAT(r.out, HasSubstr("\n" + std::to_string(id) + " ")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("node-" + std::to_string(id)));
    EXPECT_THAT(
        r.out, HasSubstr("127.0.0.1:80" + std::to_string(id) + ",10.0.0.1:80"));
    EXPECT_THAT(r.out, HasSubstr(std::to_string(kHwmMillis + id)));
  }
  EXPECT_THAT(r.out, HasSubstr("2025-01-01T00:00:01.503Z"));
  EXPECT_THAT(r.out, Not(HasSubstr("\n9 ")));
  if (GetParam() == Coordinator::kEtcd) {
    EXPECT_THAT(r.out, ::testing::ContainsRegex("(58|59|60)s\n"));
  } else {
    // No session's time left is visible to another client.
    EXPECT_THAT(r.out, ::testing::ContainsRegex("Z +-\n"));
  }
}

TEST_P(ClusterOnCoordinatorTest, JsonNamesWhatHoldsEachId) {
  WriteCluster(*writer_, "/custom/prefix", "json");
  const Result r = Run({"cluster", "--cluster", "json", "--root",
                        "/custom/prefix/", "--worker-range", "0-5", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["prefix"], "/custom/prefix");
  EXPECT_EQ(json["range"]["held"], 1);
  ASSERT_EQ(json["holders"].size(), 2u) << r.out;
  const nlohmann::json& holder = json["holders"][0];
  EXPECT_EQ(holder["worker_id"], 3);
  EXPECT_EQ(holder["node"], "node-3");
  EXPECT_EQ(holder["hwm_ms"], kHwmMillis + 3);
  EXPECT_EQ(holder["hwm_ahead_ms"], 1503);
  ASSERT_TRUE(holder["lease"].is_string());
  if (GetParam() == Coordinator::kEtcd) {
    EXPECT_NE(holder["lease"], "0");
    EXPECT_TRUE(holder["lease_left_s"].is_number());
  } else {
    EXPECT_EQ(holder["lease"], writer_->SessionLease());
    EXPECT_TRUE(holder["lease_left_s"].is_null());
  }
  ASSERT_EQ(json["free_with_hwm"].size(), 1u);
  EXPECT_EQ(json["free_with_hwm"][0]["worker_id"], 9);
}

TEST_P(ClusterOnCoordinatorTest, PrometheusSdTargetsEveryHolderOnce) {
  WriteCluster(*writer_, schema::kDefaultPrefix, "sd");
  const std::string file =
      (std::filesystem::temp_directory_path() / "cluster_sd_test.json")
          .string();
  std::filesystem::remove(file);
  const Result r = Run({"cluster", "--cluster", "sd", "--format",
                        "prometheus-sd", "--output", file});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, IsEmpty());  // Written to the file only.
  std::ifstream in(file);
  const nlohmann::json groups = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(groups.is_array()) << r.out;
  ASSERT_EQ(groups.size(), 2u) << groups.dump();  // Not the free ID 9.
  for (int i = 0; i < 2; ++i) {
    const std::string id = i == 0 ? "3" : "7";
    EXPECT_EQ(groups[i]["targets"], nlohmann::json({"127.0.0.1:80" + id}));
    EXPECT_EQ(groups[i]["labels"], nlohmann::json({{"cluster", "sd"},
                                                   {"region", "eu-west"},
                                                   {"node", "node-" + id}}));
  }
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
  std::filesystem::remove(file);
}

TEST_P(ClusterOnCoordinatorTest, ListFindsEveryClusterUnderThePrefix) {
  const std::string prefix = "/list-test";
  WriteCluster(*writer_, prefix, "prod");
  WriteCluster(*writer_, prefix, "staging");
  writer_->Put(schema::HwmKey(prefix, "retired", 4),
               schema::EncodeHwm(kNowMillis), false);
  WriteCluster(*writer_, prefix + "2", "elsewhere");

  const Result r = Run({"cluster", "list", "--prefix", prefix});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 clusters under /list-test"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nprod +2 +0 +3 +\\{"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nstaging +2 +0 +3 +\\{"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nretired +0 +0 +1 +none\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("elsewhere")));

  const Result missing = Run({"cluster", "--prefix", prefix});
  ASSERT_EQ(missing.code, kExitOk) << missing.err;
  EXPECT_THAT(missing.out, HasSubstr("clusters there: prod,retired,staging"));

  const Result none = Run({"cluster", "list", "--prefix", "/none"});
  ASSERT_EQ(none.code, kExitOk) << none.err;
  EXPECT_THAT(none.out, HasSubstr("no cluster under /none"));
}

TEST_P(ClusterOnCoordinatorTest, FenceRestoreRaisesEveryMarkOfTheRange) {
  const std::string cluster = "fence-" + NameOf(GetParam());
  WriteCluster(*writer_, schema::kDefaultPrefix, cluster);
  const int64_t higher = kNowMillis + 3'600'000;
  writer_->Put(schema::HwmKey(schema::kDefaultPrefix, cluster, 5),
               schema::EncodeHwm(higher), false);
  writer_->Put(schema::HwmKey(schema::kDefaultPrefix, cluster, 6), "garbage",
               false);
  const Result r = Run({"cluster", "fence-restore", "--cluster", cluster,
                        "--worker-range", "0-249", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  // 3, 7 and 9 raised; 6 replaced; 5 kept; the other 245 created.
  EXPECT_EQ(json["raised"], 3);
  EXPECT_EQ(json["replaced"], 1);
  EXPECT_EQ(json["unchanged"], 1);
  EXPECT_EQ(json["created"], 245);
  EXPECT_EQ(json["transactions"], 3);  // Batches of 100.

  // Read back through the listing: every mark of the range is there.
  const Result after = Run({"cluster", "list"});
  ASSERT_EQ(after.code, kExitOk) << after.err;
  EXPECT_THAT(after.out,
              ::testing::ContainsRegex("\n" + cluster + " +2 +0 +250 +\\{"));
  const Result again = Run({"cluster", "fence-restore", "--cluster", cluster,
                            "--worker-range", "0-249", "--json"});
  ASSERT_EQ(again.code, kExitOk) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["unchanged"], 250);
}

TEST_P(ClusterOnCoordinatorTest, NoSuchClusterForFenceRestore) {
  const Result r = Run({"cluster", "fence-restore", "--cluster", "nowhere"});
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.err, HasSubstr("no such cluster: "));
  EXPECT_THAT(r.err, HasSubstr("/snowflake/nowhere/config does not exist"));
}

INSTANTIATE_TEST_SUITE_P(Coordinators, ClusterOnCoordinatorTest,
                         ::testing::Values(Coordinator::kEtcd,
                                           Coordinator::kZooKeeper),
                         [](const ::testing::TestParamInfo<Coordinator>& info) {
                           return NameOf(info.param);
                         });

// The table without its last column (lease time left), and the JSON without
// what names the session, are the same whichever coordinator holds the tree.
TEST_F(BothCoordinatorsTest, PrintTheSameTableAndJson) {
  std::map<Coordinator, std::pair<std::string, nlohmann::json>> outputs;
  for (Coordinator c : {Coordinator::kEtcd, Coordinator::kZooKeeper}) {
    std::unique_ptr<TreeWriter> writer = BothCoordinators::Writer(c);
    ASSERT_NE(writer, nullptr);
    WriteCluster(*writer, "/same", "same");
    std::vector<std::string> args = {"cluster"};
    for (const std::string& flag : writer->Flags()) args.push_back(flag);
    for (const char* flag : {"--prefix", "/same", "--cluster", "same"}) {
      args.push_back(flag);
    }
    const Result table = Snowflake(args);
    ASSERT_EQ(table.code, kExitOk) << table.err;
    args.push_back("--json");
    const Result json = Snowflake(args);
    ASSERT_EQ(json.code, kExitOk) << json.err;
    nlohmann::json parsed = nlohmann::json::parse(json.out);
    for (nlohmann::json& holder : parsed["holders"]) {
      holder.erase("lease");
      holder.erase("lease_left_s");
    }
    // Each row's last column is its lease time left.
    outputs[c] = {std::regex_replace(table.out, std::regex("  \\S+\n"), "\n"),
                  parsed};
  }
  EXPECT_EQ(outputs[Coordinator::kEtcd].first,
            outputs[Coordinator::kZooKeeper].first);
  EXPECT_EQ(outputs[Coordinator::kEtcd].second,
            outputs[Coordinator::kZooKeeper].second);
  EXPECT_THAT(outputs[Coordinator::kZooKeeper].first, HasSubstr("node-7"));
}

// Nodes that write marks while fence-restore runs: a mark raised meanwhile
// fails the multi on its version, one created meanwhile on its existence;
// each time the batch is re-read and retried, and no mark is lowered.
TEST_F(BothCoordinatorsTest, ZooKeeperFenceConflictsAreRetried) {
  std::unique_ptr<TreeWriter> writer =
      BothCoordinators::Writer(Coordinator::kZooKeeper);
  ASSERT_NE(writer, nullptr);
  auto& zk = static_cast<ZooKeeperWriter&>(*writer);
  const std::string cluster = "zk-race";
  zk.Put(schema::ConfigKey(schema::kDefaultPrefix, cluster),
         schema::EncodeClusterConfig(Layout(), {}), false);
  zk.Put(schema::HwmKey(schema::kDefaultPrefix, cluster, 4),
         schema::EncodeHwm(kNowMillis), false);
  const int64_t target = kNowMillis + 61'000;
  const int64_t higher = target + 5'000;
  int calls = 0;
  auto race = [&] {
    const int call = calls++;
    if (call == 0) {
      zk.Put(schema::HwmKey(schema::kDefaultPrefix, cluster, 4),
             schema::EncodeHwm(higher), false);
    } else if (call == 1) {
      zk.Put(schema::HwmKey(schema::kDefaultPrefix, cluster, 2),
             schema::EncodeHwm(kNowMillis), false);
    }
  };
  FencePlan plan;
  plan.prefix = schema::kDefaultPrefix;
  plan.cluster = cluster;
  plan.range = WorkerRange{0, 5};
  plan.target_millis = target;
  absl::StatusOr<FenceResult> result = RaiseHwms(zk.client(), plan, race);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->conflicts, 2);
  EXPECT_EQ(result->transactions, 3);
  EXPECT_EQ(result->unchanged, 1);  // 4, raised by the "node" meanwhile.
  EXPECT_EQ(result->raised, 1);     // 2, created by the "node" meanwhile.
  EXPECT_EQ(result->created, 4);
  for (int64_t id = 0; id <= 5; ++id) {
    absl::StatusOr<zookeeper::Node> node =
        zk.client().Get(schema::HwmKey(schema::kDefaultPrefix, cluster, id));
    ASSERT_TRUE(node.ok()) << id << ": " << node.status();
    EXPECT_EQ(schema::DecodeHwm(node->value).value_or(-1),
              id == 4 ? higher : target)
        << id;
  }
}

TEST(ClusterZooKeeperFlagsTest, BadFlagsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"cluster"}, "give --etcd URL[,URL...] or --zookeeper"},
           {{"cluster", "list"}, "give --etcd URL[,URL...] or --zookeeper"},
           {{"cluster", "--etcd", "http://127.0.0.1:1", "--zookeeper",
             "127.0.0.1:1"},
            "excludes"},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--zookeeper-auth",
             "nocolon"},
            "--zookeeper-auth: must be USER:PASSWORD"},
           {{"cluster", "--etcd", "http://127.0.0.1:1", "--zookeeper-auth",
             "a:b"},
            "--zookeeper-auth: only with --zookeeper"},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--ca", "ca.pem"},
            "are etcd's"},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--root", "x"},
            "--prefix: must start with \"/\""},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--format", "yaml"},
            "--format yaml is not a format"},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--refresh", "5"},
            "--refresh S needs S > 0 and --output FILE"},
           {{"cluster", "--zookeeper", "127.0.0.1:1", "--keep-departed", "60"},
            "--keep-departed S needs S >= 0, --format prometheus-sd and "
            "--refresh"},
       }) {
    const Result r = Snowflake(c.args);
    EXPECT_EQ(r.code, kExitUsage) << c.args.back() << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.expect)) << c.args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Both coordinators at once, given to the function rather than parsed.
  ClusterFlags flags;
  flags.endpoints = {"http://127.0.0.1:1"};
  flags.zookeeper_hosts = "127.0.0.1:1";
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  snowflake::testing::SimulatedClock clock(kNowMillis * 1000);
  EXPECT_EQ(Cluster(flags, clock, io), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("give only one coordinator"));
}

TEST(ClusterZooKeeperFlagsTest, UnreachableZooKeeperFailsWithOneLine) {
  const Result r = Snowflake(
      {"cluster", "--zookeeper", "127.0.0.1:1", "--timeout-ms", "500"});
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.err, HasSubstr("snowflake: cluster: cannot read the cluster "
                               "from ZooKeeper: "));
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

}  // namespace
}  // namespace snowflake::cli
