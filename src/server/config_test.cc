#include "src/server/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/server/metrics.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!file_.empty()) std::filesystem::remove(file_);
  }

  std::string WriteFile(const std::string& text) {
    file_ = (std::filesystem::temp_directory_path() /
             ("config_test_" + std::to_string(getpid()) + ".toml"))
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

  std::string SourceOf(const LoadedConfig& loaded, const std::string& key) {
    for (const ConfigValue& v : loaded.values) {
      if (v.key == key) return v.source;
    }
    return "missing";
  }

  std::map<std::string, std::string> env_;
  std::string file_;
};

TEST_F(ConfigTest, Defaults) {
  auto loaded = Load({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(loaded->action, ConfigAction::kRun);
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.worker_mode, "static");
  EXPECT_EQ(c.worker_id, 0);
  EXPECT_EQ(c.state_dir, "./state");
  EXPECT_EQ(c.layout, Layout());
  EXPECT_EQ(c.max_batch, 100000);
  EXPECT_EQ(c.tolerance_millis, 5);
  EXPECT_FALSE(c.access_log);
  EXPECT_EQ(SourceOf(*loaded, "worker.id"), "default");
}

TEST_F(ConfigTest, PrecedenceFlagOverEnvOverFileOverDefault) {
  const std::string path = WriteFile(
      "listen = \"127.0.0.1:7000\"\n"
      "[worker]\nid = 1\nstate_dir = \"/tmp/from-file\"\n"
      "[clock]\ntolerance_ms = 9\n");
  env_["SNOWFLAKE_WORKER_ID"] = "2";
  env_["SNOWFLAKE_STATE_DIR"] = "/tmp/from-env";
  auto loaded = Load({"--config", path, "--state-dir", "/tmp/from-flag"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.listen_port, 7000);            // File.
  EXPECT_EQ(c.worker_id, 2);                 // Env beats file.
  EXPECT_EQ(c.state_dir, "/tmp/from-flag");  // Flag beats env.
  EXPECT_EQ(c.tolerance_millis, 9);          // File.
  EXPECT_EQ(c.max_borrow_millis, 0);         // Default.
  EXPECT_EQ(SourceOf(*loaded, "listen"), "file " + path + " line 1");
  EXPECT_EQ(SourceOf(*loaded, "worker.id"), "env SNOWFLAKE_WORKER_ID");
  EXPECT_EQ(SourceOf(*loaded, "worker.state_dir"), "flag --state-dir");
  EXPECT_EQ(SourceOf(*loaded, "clock.tolerance_ms"),
            "file " + path + " line 6");
}

TEST_F(ConfigTest, ConfigPathFromEnv) {
  env_["SNOWFLAKE_CONFIG"] = WriteFile("worker.id = 5\n");
  auto loaded = Load({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.worker_id, 5);
}

TEST_F(ConfigTest, UnknownFileKeyNamesKeyAndLine) {
  const std::string path =
      WriteFile("listen = \"127.0.0.1:1\"\n\n[worker]\nidd = 3\n");
  auto loaded = Load({"--config", path});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("unknown key \"worker.idd\""));
  EXPECT_THAT(loaded.status().message(), HasSubstr("line 4"));
}

TEST_F(ConfigTest, BadFileValueNamesKeyValueAndLine) {
  const std::string path = WriteFile("[worker]\nid = \"seven\"\n");
  auto loaded = Load({"--config", path});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("worker.id = seven"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("integer"));

  const std::string path2 = WriteFile("[clock]\nsource = \"sundial\"\n");
  auto loaded2 = Load({"--config", path2});
  ASSERT_FALSE(loaded2.ok());
  EXPECT_THAT(
      loaded2.status().message(),
      HasSubstr("clock.source = \"sundial\" (file " + path2 + " line 2)"));
}

TEST_F(ConfigTest, TomlSyntaxErrorNamesLine) {
  const std::string path = WriteFile("listen = \n");
  auto loaded = Load({"--config", path});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("line 1"));
}

TEST_F(ConfigTest, MissingFile) {
  auto loaded = Load({"--config", "/nonexistent/snowflake.toml"});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("/nonexistent/snowflake.toml"));
}

TEST_F(ConfigTest, BadValuesNameKeyValueAndSource) {
  struct Case {
    std::vector<std::string> flags;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"--listen", "nohost"}, "listen = \"nohost\" (flag --listen)"},
           {{"--listen", "127.0.0.1:99999"}, "port must be between"},
           {{"--worker-id", "-1"}, "worker.id = \"-1\""},
           {{"--worker-id", "1024"}, "worker IDs 0 to 1023"},
           {{"--layout", "50/10/10"}, "layout.widths = \"50/10/10\""},
           {{"--layout", "nonsense"}, "presets:"},
           {{"--epoch", "yesterday"}, "layout.epoch = \"yesterday\""},
           {{"--log-level", "loud"}, "must be one of: trace"},
           {{"--access-log", "maybe"}, "log.access = \"maybe\""},
           {{"--max-batch", "0"}, "limits.max_batch = \"0\""},
           {{"--threads", "x"}, "not a whole number"},
           {{"--sequence-start-max", "5000"}, "sequence is 0 to 4095"},
           {{"--bogus-flag"}, "command line"},
       }) {
    auto loaded = Load(c.flags);
    ASSERT_FALSE(loaded.ok()) << c.flags[0] << " " << c.flags.back();
    EXPECT_THAT(loaded.status().message(), HasSubstr(c.expect)) << c.flags[0];
  }
  env_["SNOWFLAKE_TOLERANCE_MS"] = "soon";
  auto loaded = Load({});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(
      loaded.status().message(),
      HasSubstr("clock.tolerance_ms = \"soon\" (env SNOWFLAKE_TOLERANCE_MS)"));
}

TEST_F(ConfigTest, ZookeeperIsNotSupportedYet) {
  auto loaded = Load({"--coordinator", "zookeeper"});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(loaded.status().message(), HasSubstr("not supported yet"));
}

TEST_F(ConfigTest, EtcdSettings) {
  env_["SNOWFLAKE_ETCD_ENDPOINTS"] = "http://127.0.0.1:1,http://127.0.0.1:2";
  auto loaded =
      Load({"--coordinator", "etcd", "--worker-range", "342-683", "--cluster",
            "prod", "--lease-ttl", "5", "--advertise", "10.0.0.1:8080"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.worker_mode, "etcd");
  EXPECT_EQ(c.worker_range_first, 342);
  EXPECT_EQ(c.worker_range_last, 683);
  EXPECT_EQ(c.cluster, "prod");
  EXPECT_EQ(c.lease_ttl_seconds, 5);
  EXPECT_EQ(c.etcd_endpoints, (std::vector<std::string>{"http://127.0.0.1:1",
                                                        "http://127.0.0.1:2"}));
  EXPECT_EQ(c.advertise, (std::vector<std::string>{"10.0.0.1:8080"}));
}

TEST_F(ConfigTest, BadWorkerRanges) {
  for (const char* range : {"5", "7-3", "a-b", "-1-4", "0-1024"}) {
    auto loaded = Load({"--worker-range", range});
    ASSERT_FALSE(loaded.ok()) << range;
    EXPECT_THAT(loaded.status().message(), HasSubstr("worker.range")) << range;
  }
  EXPECT_FALSE(Load({"--lease-ttl", "1"}).ok());
  EXPECT_FALSE(Load({"--cluster", "a/b"}).ok());
  EXPECT_FALSE(Load({"--etcd-prefix", "snowflake"}).ok());
}

TEST_F(ConfigTest, LayoutPresetsEpochAndUnit) {
  auto twitter = Load({"--layout", "twitter"});
  ASSERT_TRUE(twitter.ok()) << twitter.status();
  EXPECT_EQ(twitter->config.layout, *Layout::Preset("twitter"));

  auto custom = Load({"--layout", "39/12/12", "--epoch", "2024-01-01T00:00:00Z",
                      "--unit-ms", "10"});
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_EQ(custom->config.layout.time_bits(), 39);
  EXPECT_EQ(custom->config.layout.epoch_millis(), 1704067200000);
  EXPECT_EQ(custom->config.layout.unit_millis(), 10);

  auto millis = Load({"--epoch", "1704067200000"});
  ASSERT_TRUE(millis.ok());
  EXPECT_EQ(millis->config.layout.epoch_millis(), 1704067200000);

  auto file =
      Load({"--config", WriteFile("[layout]\nepoch = 2024-01-01T00:00:00Z\n")});
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->config.layout.epoch_millis(), 1704067200000);
}

TEST_F(ConfigTest, BoolFlagWithoutValue) {
  auto loaded = Load({"--access-log"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->config.access_log);
  env_["SNOWFLAKE_ACCESS_LOG"] = "on";
  EXPECT_TRUE(Load({})->config.access_log);
}

TEST_F(ConfigTest, ActionsAndPrintConfig) {
  EXPECT_EQ(Load({"--check-config"})->action, ConfigAction::kCheck);
  EXPECT_EQ(Load({"--help"})->action, ConfigAction::kExit);
  EXPECT_THAT(Load({"--help"})->output, HasSubstr("--worker-id"));
  EXPECT_EQ(Load({"--version"})->action, ConfigAction::kExit);

  env_["SNOWFLAKE_LISTEN"] = "127.0.0.1:9000";
  auto loaded = Load({"--print-config", "--worker-id", "4"});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->action, ConfigAction::kPrint);
  const std::string text = FormatConfig(*loaded);
  EXPECT_THAT(
      text, HasSubstr("listen = \"127.0.0.1:9000\"  # env SNOWFLAKE_LISTEN\n"));
  EXPECT_THAT(text, HasSubstr("worker.id = 4  # flag --worker-id\n"));
  EXPECT_THAT(text, HasSubstr("log.access = false  # default\n"));

  // The printed configuration is itself a valid configuration file.
  env_.clear();
  auto reread = Load({"--config", WriteFile(text)});
  ASSERT_TRUE(reread.ok()) << reread.status();
  EXPECT_EQ(reread->config.worker_id, 4);
  EXPECT_EQ(reread->config.listen_port, 9000);
}

TEST_F(ConfigTest, MarkdownTableListsEverySetting) {
  const std::string table = ConfigMarkdownTable();
  auto loaded = Load({});
  ASSERT_TRUE(loaded.ok());
  for (const ConfigValue& v : loaded->values) {
    EXPECT_THAT(table, HasSubstr("`" + v.key + "`"));
  }
}

}  // namespace
}  // namespace snowflake

namespace snowflake {
namespace {

// docs/configuration.md must carry the table the code generates.
TEST(ConfigDocsTest, ConfigurationMdMatchesCode) {
  std::ifstream file(std::string(SNOWFLAKE_SOURCE_DIR) +
                     "/docs/configuration.md");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr(ConfigMarkdownTable()))
      << "Regenerate the table in docs/configuration.md:\n"
      << ConfigMarkdownTable();
}

// docs/metrics.md must name every metric family the node exports.
TEST(ConfigDocsTest, MetricsMdListsEveryFamily) {
  std::ifstream file(std::string(SNOWFLAKE_SOURCE_DIR) + "/docs/metrics.md");
  std::stringstream text;
  text << file.rdbuf();
  Metrics metrics({"v", "l", "m"});
  std::stringstream rendered(metrics.Render(NodeStatus()));
  std::string line;
  while (std::getline(rendered, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_THAT(text.str(), HasSubstr("`" + name + "`"));
  }
}

}  // namespace
}  // namespace snowflake
