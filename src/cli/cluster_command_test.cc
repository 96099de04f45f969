// `snowflake cluster` against a real etcd (EtcdLauncher): keys written in
// the schema's format with EtcdClient, then read back through the command
// line, as text and as JSON.
#include "src/cli/cluster_command.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/cli/cli.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/etcd/etcd_schema.h"
#include "testing/etcd_launcher.h"
#include "testing/simulated_clock.h"

namespace snowflake::cli {
namespace {

using ::snowflake::testing::EtcdLauncher;
using ::snowflake::testing::EtcdLauncherOptions;
using ::testing::AllOf;
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

std::unique_ptr<EtcdLauncher> StartEtcd(EtcdLauncherOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EtcdLauncher>> launcher =
      EtcdLauncher::Start(std::move(options));
  EXPECT_TRUE(launcher.ok()) << launcher.status();
  return launcher.ok() ? *std::move(launcher) : nullptr;
}

std::unique_ptr<etcd::EtcdClient> Connect(etcd::Options options) {
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// Writes what two running nodes of cluster `cluster` would keep: the config,
// two holders bound to one lease each, their HWMs, and the HWM of a third,
// free worker ID.
void WriteCluster(etcd::EtcdClient& client, const std::string& prefix,
                  const std::string& cluster) {
  namespace schema = etcd_schema;
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

class ClusterCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { etcd_ = StartEtcd().release(); }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    etcd::Options options;
    options.endpoints = etcd_->ClientUrls();
    client_ = Connect(std::move(options));
    ASSERT_NE(client_, nullptr);
  }

  static EtcdLauncher* etcd_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

EtcdLauncher* ClusterCommandTest::etcd_ = nullptr;

TEST_F(ClusterCommandTest, TableListsHoldersHwmsLeaseLeftAndFreeCount) {
  WriteCluster(*client_, "/snowflake", "prod");
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
  WriteCluster(*client_, "/snowflake", "revoked");
  auto kv = client_->Get(etcd_schema::WorkerKey("/snowflake", "revoked", 7));
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
  std::unique_ptr<etcd::EtcdClient> client = Connect(client_options);
  ASSERT_NE(client, nullptr);
  WriteCluster(*client, "/snowflake", "tls");

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
