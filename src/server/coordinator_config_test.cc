// The coordinator settings of config.h: zookeeper mode and its zookeeper.*
// settings, worker.cluster (formerly etcd.cluster), and the checks that hold
// the coordinator's renewal period (etcd.lease_ttl_s, or
// zookeeper.session_timeout_s) against the outage budget in either mode.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/server/config.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CoordinatorConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!file_.empty()) std::filesystem::remove(file_);
  }

  std::string WriteFile(const std::string& text) {
    file_ = (std::filesystem::temp_directory_path() /
             ("coordinator_config_test_" + std::to_string(getpid()) + ".toml"))
                .string();
    std::ofstream(file_) << text;
    return file_;
  }

  absl::StatusOr<LoadedConfig> Load(std::vector<std::string> flags) {
    flags.insert(flags.begin(), "snowflaked");
    return LoadConfig(
        flags, [this](const std::string& name) -> std::optional<std::string> {
          auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        });
  }

  static std::string SourceOf(const LoadedConfig& loaded,
                              const std::string& key) {
    for (const ConfigValue& v : loaded.values) {
      if (v.key == key) return v.source;
    }
    return "missing";
  }

  std::map<std::string, std::string> env_;
  std::string file_;
};

TEST_F(CoordinatorConfigTest, ZooKeeperModeIsAcceptedWithItsDefaults) {
  auto loaded = Load({"--coordinator", "zookeeper"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.worker_mode, "zookeeper");
  EXPECT_EQ(c.zookeeper_hosts, "127.0.0.1:2181");
  EXPECT_EQ(c.zookeeper_root, "/snowflake");
  EXPECT_EQ(c.session_timeout_seconds, 30);
  EXPECT_EQ(c.zookeeper_auth, "");
  EXPECT_EQ(c.cluster, "default");
  EXPECT_TRUE(UsesCoordinator(c));
  EXPECT_EQ(CoordinatorTtlSeconds(c), 30);

  const Config defaults;
  EXPECT_EQ(defaults.zookeeper_hosts, limits::kDefaultZooKeeperHosts);
  EXPECT_EQ(defaults.zookeeper_root, cluster_schema::kDefaultPrefix);
  EXPECT_EQ(defaults.session_timeout_seconds,
            limits::kDefaultSessionTimeoutSeconds);
  EXPECT_FALSE(UsesCoordinator(defaults));
  EXPECT_EQ(CoordinatorTtlSeconds(defaults), 0);
}

TEST_F(CoordinatorConfigTest, CoordinatorTtlIsTheModesOwn) {
  auto etcd = Load(
      {"--coordinator", "etcd", "--lease-ttl", "12", "--session-timeout", "9"});
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  EXPECT_EQ(CoordinatorTtlSeconds(etcd->config), 12);
  auto zookeeper = Load({"--coordinator", "zookeeper", "--lease-ttl", "12",
                         "--session-timeout", "9"});
  ASSERT_TRUE(zookeeper.ok()) << zookeeper.status();
  EXPECT_EQ(CoordinatorTtlSeconds(zookeeper->config), 9);
}

TEST_F(CoordinatorConfigTest, ZooKeeperSettingsFromFlags) {
  auto loaded = Load({"--coordinator", "zookeeper", "--zookeeper-hosts",
                      "zk1:2181,zk2:2182/apps/ids", "--zookeeper-root", "/ids",
                      "--session-timeout", "10", "--zookeeper-auth", "svc:pw",
                      "--cluster", "prod"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.zookeeper_hosts, "zk1:2181,zk2:2182/apps/ids");
  EXPECT_EQ(c.zookeeper_root, "/ids");
  EXPECT_EQ(c.session_timeout_seconds, 10);
  EXPECT_EQ(c.zookeeper_auth, "svc:pw");
  EXPECT_EQ(c.cluster, "prod");
  EXPECT_EQ(SourceOf(*loaded, "zookeeper.hosts"), "flag --zookeeper-hosts");
  EXPECT_EQ(SourceOf(*loaded, "worker.cluster"), "flag --cluster");
}

TEST_F(CoordinatorConfigTest, ZooKeeperSettingsFromEnv) {
  env_["SNOWFLAKE_COORDINATOR"] = "zookeeper";
  env_["SNOWFLAKE_ZOOKEEPER_HOSTS"] = "[::1]:2181";
  env_["SNOWFLAKE_ZOOKEEPER_ROOT"] = "/a/b";
  env_["SNOWFLAKE_SESSION_TIMEOUT"] = "2";
  env_["SNOWFLAKE_ZOOKEEPER_AUTH"] = "svc:p:w";
  env_["SNOWFLAKE_CLUSTER"] = "eu";
  auto loaded = Load({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.worker_mode, "zookeeper");
  EXPECT_EQ(c.zookeeper_hosts, "[::1]:2181");
  EXPECT_EQ(c.zookeeper_root, "/a/b");
  EXPECT_EQ(c.session_timeout_seconds, 2);
  EXPECT_EQ(c.zookeeper_auth, "svc:p:w");
  EXPECT_EQ(c.cluster, "eu");
  EXPECT_EQ(SourceOf(*loaded, "zookeeper.auth"),
            "env SNOWFLAKE_ZOOKEEPER_AUTH");
}

TEST_F(CoordinatorConfigTest, ZooKeeperSettingsFromFile) {
  auto loaded = Load({"--config", WriteFile("[worker]\n"
                                            "mode = \"zookeeper\"\n"
                                            "cluster = \"prod\"\n"
                                            "[zookeeper]\n"
                                            "hosts = \"zk1:2181/chroot\"\n"
                                            "root = \"/ids\"\n"
                                            "session_timeout_s = 20\n"
                                            "auth = \"svc:pw\"\n")});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.worker_mode, "zookeeper");
  EXPECT_EQ(c.cluster, "prod");
  EXPECT_EQ(c.zookeeper_hosts, "zk1:2181/chroot");
  EXPECT_EQ(c.zookeeper_root, "/ids");
  EXPECT_EQ(c.session_timeout_seconds, 20);
  EXPECT_EQ(c.zookeeper_auth, "svc:pw");
  EXPECT_EQ(SourceOf(*loaded, "worker.cluster"), "file " + file_ + " line 3");
  EXPECT_EQ(SourceOf(*loaded, "zookeeper.session_timeout_s"),
            "file " + file_ + " line 7");
}

// Each bad value: one line, kInvalidArgument, naming the key, the value
// (but never a secret's) and the source.
TEST_F(CoordinatorConfigTest, BadZooKeeperValuesNameTheKey) {
  struct Case {
    std::vector<std::string> flags;
    std::vector<std::string> expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"--zookeeper-hosts", ""},
            {"zookeeper.hosts = \"\" (flag --zookeeper-hosts)",
             "at least one HOST:PORT"}},
           {{"--zookeeper-hosts", "/chroot"}, {"at least one HOST:PORT"}},
           {{"--zookeeper-hosts", "zk1"},
            {"zookeeper.hosts = \"zk1\"", "entry \"zk1\": expected HOST:PORT"}},
           {{"--zookeeper-hosts", ":2181"}, {"expected HOST:PORT"}},
           {{"--zookeeper-hosts", "zk1:2181,zk2:0"},
            {"entry \"zk2:0\": the port must be 1 to 65535"}},
           {{"--zookeeper-hosts", "zk1:65536"}, {"port must be 1 to 65535"}},
           {{"--zookeeper-hosts", "zk1:+80"}, {"port must be 1 to 65535"}},
           {{"--zookeeper-hosts", "zk1:http"}, {"port must be 1 to 65535"}},
           {{"--zookeeper-hosts", "zk1:2181,,zk2:2181"}, {"entry 2 is empty"}},
           {{"--zookeeper-hosts", "zk1:2181/app/"},
            {"zookeeper.hosts = \"zk1:2181/app/\"", "chroot \"/app/\""}},
           {{"--zookeeper-hosts", "zk1:2181/"}, {"chroot \"/\""}},
           {{"--zookeeper-hosts", "zk1:2181/a//b"}, {"chroot \"/a//b\""}},
           {{"--zookeeper-root", "snowflake"},
            {"zookeeper.root = \"snowflake\" (flag --zookeeper-root)",
             "must start with /"}},
           {{"--zookeeper-root", "/snowflake/"}, {"not end with /"}},
           {{"--zookeeper-root", ""}, {"zookeeper.root = \"\""}},
           {{"--session-timeout", "1"},
            {"zookeeper.session_timeout_s = \"1\" (flag --session-timeout)",
             "between 2 and 3600"}},
           {{"--session-timeout", "3601"}, {"between 2 and 3600"}},
           {{"--session-timeout", "soon"}, {"not a whole number"}},
           {{"--zookeeper-auth", "hunter2"},
            {"zookeeper.auth = \"<redacted>\" (flag --zookeeper-auth)",
             "must be USER:PASSWORD"}},
           {{"--zookeeper-auth", ":hunter2"},
            {"zookeeper.auth = \":<redacted>\"", "non-empty user"}},
           {{"--cluster", "a/b"},
            {"worker.cluster = \"a/b\" (flag --cluster)", "without /"}},
           {{"--coordinator", "consul"},
            {"worker.mode = \"consul\"", "static, etcd, zookeeper"}},
       }) {
    auto loaded = Load(c.flags);
    ASSERT_FALSE(loaded.ok()) << c.flags.back();
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(loaded.status().message());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_THAT(message, Not(HasSubstr("hunter2")));
    for (const std::string& expect : c.expect) {
      EXPECT_THAT(message, HasSubstr(expect)) << c.flags.back();
    }
  }
  env_["SNOWFLAKE_ZOOKEEPER_HOSTS"] = "zk1:2181/app/";
  auto loaded = Load({});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("zookeeper.hosts = \"zk1:2181/app/\" (env "
                        "SNOWFLAKE_ZOOKEEPER_HOSTS)"));
}

TEST_F(CoordinatorConfigTest, GoodZooKeeperHostLists) {
  for (const char* hosts : {"127.0.0.1:2181", "zk1:2181,zk2:2181,zk3:2181",
                            "zk1:1/a", "zk1:65535/a/b-c", "[::1]:2181"}) {
    auto loaded = Load({"--zookeeper-hosts", hosts});
    ASSERT_TRUE(loaded.ok()) << hosts << ": " << loaded.status();
    EXPECT_EQ(loaded->config.zookeeper_hosts, hosts);
  }
}

// The old key is no silent no-op: the error names its new place.
TEST_F(CoordinatorConfigTest, OldEtcdClusterKeyPointsToWorkerCluster) {
  auto loaded = Load(
      {"--config", WriteFile("[etcd]\nprefix = \"/x\"\ncluster = \"prod\"\n")});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(loaded.status().message());
  EXPECT_THAT(message, HasSubstr("unknown key \"etcd.cluster\" (file " + file_ +
                                 " line 3): renamed to worker.cluster (in "
                                 "[worker]: cluster = ...)"));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;

  auto dotted = Load({"--config", WriteFile("etcd.cluster = \"prod\"\n")});
  ASSERT_FALSE(dotted.ok());
  EXPECT_THAT(dotted.status().message(),
              HasSubstr("renamed to worker.cluster"));
  // Other unknown keys say nothing of a rename.
  auto other = Load({"--config", WriteFile("[etcd]\nclusters = \"prod\"\n")});
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(), HasSubstr("unknown key"));
  EXPECT_THAT(other.status().message(), Not(HasSubstr("renamed")));
}

TEST_F(CoordinatorConfigTest, PrintConfigRedactsTheZooKeeperAuth) {
  env_["SNOWFLAKE_ZOOKEEPER_AUTH"] = "svc:hunter2";
  auto loaded = Load({"--print-config", "--coordinator", "zookeeper"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string text = FormatConfig(*loaded);
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, HasSubstr("zookeeper.auth = \"svc:<redacted>\"  # env "
                              "SNOWFLAKE_ZOOKEEPER_AUTH\n"));
  EXPECT_THAT(text, HasSubstr("zookeeper.hosts = \"127.0.0.1:2181\"  # "
                              "default\n"));
  EXPECT_THAT(text, HasSubstr("worker.cluster = \"default\"  # default\n"));

  // The printed configuration still loads (a redacted auth is well-formed).
  env_.clear();
  auto reread = Load({"--config", WriteFile(text)});
  ASSERT_TRUE(reread.ok()) << reread.status();
  EXPECT_EQ(reread->config.zookeeper_auth, "svc:<redacted>");
  EXPECT_EQ(reread->config.worker_mode, "zookeeper");

  // Unset, there is nothing to hide.
  auto unset = Load({"--print-config"});
  ASSERT_TRUE(unset.ok());
  EXPECT_THAT(FormatConfig(*unset),
              HasSubstr("zookeeper.auth = \"\"  # default\n"));
}

// In zookeeper mode the session timeout takes the lease TTL's place in
// every check of the outage budget; each mode ignores the other's.
TEST_F(CoordinatorConfigTest, SessionTimeoutIsCheckedAgainstTheOutageBudget) {
  struct Case {
    std::vector<std::string> flags;
    std::vector<std::string> expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"--coordinator", "zookeeper", "--session-timeout", "180"},
            {"zookeeper.session_timeout_s = \"180\" (flag --session-timeout)",
             "ping interval (timeout/3 = 60000 ms)",
             "worker.outage_budget_s = \"60\" (default)"}},
           {{"--coordinator", "zookeeper", "--outage-budget", "10"},
            {"zookeeper.session_timeout_s = \"30\" (default)",
             "timeout/3 = 10000 ms", "worker.outage_budget_s = \"10\""}},
           {{"--coordinator", "zookeeper", "--max-start-wait-ms", "30000"},
            {"clock.max_start_wait_ms = \"30000\" (flag --max-start-wait-ms)",
             "at least worker.outage_budget_s = \"60\" (default)",
             "in zookeeper mode"}},
           {{"--coordinator", "etcd", "--lease-ttl", "180"},
            {"etcd.lease_ttl_s = \"180\" (flag --lease-ttl)",
             "keep-alive interval (TTL/3 = 60000 ms)"}},
       }) {
    auto loaded = Load(c.flags);
    ASSERT_FALSE(loaded.ok()) << c.flags[3];
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(loaded.status().message());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const std::string& expect : c.expect) {
      EXPECT_THAT(message, HasSubstr(expect)) << c.flags[3];
    }
  }
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{
           {"--coordinator", "zookeeper", "--session-timeout", "179"},
           {"--coordinator", "zookeeper", "--max-start-wait-ms", "60000"},
           // Each mode ignores the other coordinator's TTL.
           {"--coordinator", "zookeeper", "--lease-ttl", "3600"},
           {"--coordinator", "etcd", "--session-timeout", "3600"},
           {"--session-timeout", "3600", "--max-start-wait-ms", "30000"},
       }) {
    auto loaded = Load(flags);
    EXPECT_TRUE(loaded.ok()) << flags[3] << ": " << loaded.status();
  }
}

TEST_F(CoordinatorConfigTest, CheckReportInZooKeeperMode) {
  constexpr int64_t kNow = 1767225600000;
  auto loaded = Load(
      {"--check-config", "--coordinator", "zookeeper", "--cluster", "prod",
       "--worker-range", "10-19", "--zookeeper-hosts", "zk1:2181,zk2:2181/apps",
       "--zookeeper-root", "/ids", "--zookeeper-auth", "svc:hunter2"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string report = CheckReport(*loaded, kNow);
  EXPECT_THAT(report, HasSubstr("configuration ok\n"));
  EXPECT_THAT(report,
              HasSubstr("  worker: zookeeper mode: an ID of 10-19 "
                        "(worker.range) is claimed at start (an ephemeral "
                        "znode) in cluster \"prod\" under /ids on "
                        "zk1:2181,zk2:2181/apps\n"));
  EXPECT_THAT(report, HasSubstr("  not checked: ZooKeeper (not contacted by "
                                "--check-config"));
  EXPECT_THAT(report, Not(HasSubstr("etcd")));
  EXPECT_THAT(report, Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace snowflake
