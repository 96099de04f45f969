#include "src/server/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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
  EXPECT_FALSE(c.worker_id_explicit);
  EXPECT_EQ(c.outage_budget_seconds, 60);
  EXPECT_EQ(c.hwm_write_interval_millis, 2000);
  EXPECT_EQ(c.max_clock_skew_millis, 1000);
  EXPECT_EQ(c.start_timeout_seconds, 0);
  EXPECT_EQ(c.max_start_wait_millis, 90000);
  EXPECT_TRUE(c.regions.empty());
  EXPECT_EQ(c.worker_range_source, WorkerRangeSource::kLayout);
  EXPECT_EQ(c.worker_range_last, -1);
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

// A directory or a device would otherwise parse as an empty file: every
// setting silently at its default.
TEST_F(ConfigTest, ConfigThatIsNotARegularFileIsRefused) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  for (const std::string& path : {dir, std::string("/dev/zero")}) {
    auto loaded = Load({"--config", path});
    ASSERT_FALSE(loaded.ok()) << path;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(loaded.status().message(), HasSubstr(path));
    EXPECT_THAT(loaded.status().message(), HasSubstr("not a regular file"));
  }
  env_["SNOWFLAKE_CONFIG"] = "/dev/zero";
  auto from_env = Load({});
  ASSERT_FALSE(from_env.ok());
  EXPECT_THAT(from_env.status().message(), HasSubstr("/dev/zero"));
}

TEST_F(ConfigTest, UnreadableConfigIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = WriteFile("worker.id = 1\n");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  auto loaded = Load({"--config", path});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr(path));
  EXPECT_THAT(loaded.status().message(), HasSubstr("unreadable"));
}

TEST_F(ConfigTest, UnknownSnowflakeEnvNamesAreFound) {
  const std::vector<UnknownEnv> unknown = FindUnknownEnv(
      {"PATH", "SNOWFLAKE_WORKER_IDD", "SNOWFLAKE_WORKER_ID",
       "SNOWFLAKE_LISTNE", "SNOWFLAKE_CONFIG", "SNOWFLAKE_KEEP_TEST_DIRS",
       "SNOWFLAKE_CLI_BIN", "SNOWFLAKED_BIN",
       "SNOWFLAKE_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"});
  ASSERT_EQ(unknown.size(), 3u);
  EXPECT_EQ(unknown[0].name, "SNOWFLAKE_LISTNE");
  EXPECT_EQ(unknown[0].suggestion, "SNOWFLAKE_LISTEN");
  EXPECT_EQ(unknown[1].name, "SNOWFLAKE_WORKER_IDD");
  EXPECT_EQ(unknown[1].suggestion, "SNOWFLAKE_WORKER_ID");
  EXPECT_EQ(unknown[2].name, "SNOWFLAKE_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(unknown[2].suggestion, "");
}

TEST_F(ConfigTest, EverySettingsEnvIsKnown) {
  std::vector<std::string> names;
  std::istringstream table(ConfigMarkdownTable());
  for (std::string line; std::getline(table, line);) {
    const size_t at = line.find("`SNOWFLAKE_");
    if (at == std::string::npos) continue;
    names.push_back(line.substr(at + 1, line.find('`', at + 1) - at - 1));
  }
  EXPECT_GT(names.size(), 30u);
  EXPECT_THAT(FindUnknownEnv(names), ::testing::IsEmpty());
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

// zookeeper mode and the other coordinator settings:
// coordinator_config_test.cc.

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

// `--epoch 2099-01-01` is how people write an epoch: a date is its midnight
// UTC, from a flag or from a TOML date.
TEST_F(ConfigTest, EpochMayBeADate) {
  auto flag = Load({"--epoch", "2024-01-01"});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->config.layout.epoch_millis(), 1704067200000);
  auto file = Load({"--config", WriteFile("[layout]\nepoch = 2024-01-01\n")});
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->config.layout.epoch_millis(), 1704067200000);
  EXPECT_FALSE(Load({"--epoch", "2024-1-1"}).ok());
  EXPECT_FALSE(Load({"--epoch", "2024-01-01junk"}).ok());
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

// Found by tests/fuzz/config_fuzz: --print-config quoted strings with C
// escapes (\', octal bytes), which TOML refuses, so a config that loaded
// printed as one that did not.
TEST_F(ConfigTest, PrintedConfigReloadsWithQuotesControlsAndNonAscii) {
  auto loaded =
      Load({"--config", WriteFile("[node]\n"
                                  "name = \"it's caf\\u00e9\\u0001\"\n"
                                  "region = \"a\\\"b\\\\c\\td\"\n"
                                  "[worker]\n"
                                  "state_dir = \"'vwflake\"\n")});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->config.node_name, "it's caf\xc3\xa9\x01");
  auto reread = Load({"--config", WriteFile(FormatConfig(*loaded))});
  ASSERT_TRUE(reread.ok()) << reread.status() << "\n" << FormatConfig(*loaded);
  EXPECT_EQ(reread->config.node_name, loaded->config.node_name);
  EXPECT_EQ(reread->config.region, "a\"b\\c\td");
  EXPECT_EQ(reread->config.state_dir, "'vwflake");
  // TOML holds only UTF-8: a byte that is not becomes U+FFFD.
  EXPECT_EQ(TomlQuote("x\xff\x7f\xc3\xa9"), "\"x\\uFFFD\\u007F\xc3\xa9\"");
}

TEST_F(ConfigTest, WorkerIdExplicitFromAnySource) {
  EXPECT_TRUE(Load({"--worker-id", "0"})->config.worker_id_explicit);
  EXPECT_TRUE(Load({"--config", WriteFile("[worker]\nid = 0\n")})
                  ->config.worker_id_explicit);
  env_["SNOWFLAKE_WORKER_ID"] = "3";
  EXPECT_TRUE(Load({})->config.worker_id_explicit);
}

TEST_F(ConfigTest, OutageBudgetSettingsFromEverySource) {
  const std::string path = WriteFile(
      "[worker]\noutage_budget_s = 120\n"
      "[node]\nstart_timeout_s = 45\n");
  env_["SNOWFLAKE_HWM_WRITE_INTERVAL_MS"] = "500";
  auto loaded =
      Load({"--config", path, "--max-clock-skew-ms", "250", "--coordinator",
            "etcd", "--max-start-wait-ms", "120000"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.outage_budget_seconds, 120);
  EXPECT_EQ(c.hwm_write_interval_millis, 500);
  EXPECT_EQ(c.max_clock_skew_millis, 250);
  EXPECT_EQ(c.start_timeout_seconds, 45);
  EXPECT_EQ(SourceOf(*loaded, "worker.outage_budget_s"),
            "file " + path + " line 2");
  EXPECT_EQ(SourceOf(*loaded, "node.start_timeout_s"),
            "file " + path + " line 4");
  EXPECT_EQ(SourceOf(*loaded, "worker.hwm_write_interval_ms"),
            "env SNOWFLAKE_HWM_WRITE_INTERVAL_MS");
  EXPECT_EQ(SourceOf(*loaded, "clock.max_skew_ms"), "flag --max-clock-skew-ms");
  env_.clear();
  EXPECT_EQ(Load({"--outage-budget", "7"})->config.outage_budget_seconds, 7);
  env_["SNOWFLAKE_START_TIMEOUT"] = "9";
  EXPECT_EQ(Load({})->config.start_timeout_seconds, 9);
}

// Every check of the outage budget and what depends on it: one line, naming
// each setting involved with its value and source.
TEST_F(ConfigTest, OutageBudgetChecks) {
  struct Case {
    std::vector<std::string> flags;
    std::vector<std::string> expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"--outage-budget", "0"},
            {"worker.outage_budget_s = \"0\" (flag --outage-budget)",
             "between 1 and"}},
           {{"--outage-budget", "x"}, {"worker.outage_budget_s = \"x\""}},
           // 10 time bits of 1 ms: a range of 1024 ms.
           {{"--layout", "10/10/12", "--outage-budget", "2"},
            {"worker.outage_budget_s = \"2\"", "time range of 1024 ms"}},
           {{"--hwm-write-interval-ms", "99"},
            {"worker.hwm_write_interval_ms = \"99\"", "between 100 and"}},
           {{"--outage-budget", "3"},
            {"worker.hwm_write_interval_ms = \"2000\" (default)",
             "half of worker.outage_budget_s = \"3\" (flag --outage-budget)"}},
           {{"--max-clock-skew-ms", "-1"}, {"clock.max_skew_ms = \"-1\""}},
           {{"--max-clock-skew-ms", "60001"},
            {"clock.max_skew_ms = \"60001\" (flag --max-clock-skew-ms)",
             "at most worker.outage_budget_s = \"60\" (default)"}},
           {{"--coordinator", "etcd", "--max-start-wait-ms", "30000"},
            {"clock.max_start_wait_ms = \"30000\" (flag --max-start-wait-ms)",
             "at least worker.outage_budget_s = \"60\" (default)",
             "successor"}},
           {{"--coordinator", "etcd", "--outage-budget", "120",
             "--max-start-wait-ms", "119999"},
            {"clock.max_start_wait_ms = \"119999\"",
             "worker.outage_budget_s = \"120\""}},
           {{"--coordinator", "etcd", "--lease-ttl", "180"},
            {"etcd.lease_ttl_s = \"180\" (flag --lease-ttl)",
             "TTL/3 = 60000 ms", "worker.outage_budget_s = \"60\""}},
           {{"--start-timeout", "-1"}, {"node.start_timeout_s = \"-1\""}},
       }) {
    auto loaded = Load(c.flags);
    ASSERT_FALSE(loaded.ok()) << c.flags[1];
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(loaded.status().message());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const std::string& expect : c.expect) {
      EXPECT_THAT(message, HasSubstr(expect)) << c.flags[1];
    }
  }
}

TEST_F(ConfigTest, OutageBudgetEdgesThatPass) {
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{
           {"--outage-budget", "4"},  // Interval 2000 = half of 4 s.
           {"--max-clock-skew-ms", "60000"},
           {"--max-clock-skew-ms", "0"},
           {"--layout", "10/10/12", "--outage-budget", "1",
            "--hwm-write-interval-ms", "500"},
           {"--coordinator", "etcd", "--max-start-wait-ms", "60000"},
           {"--coordinator", "etcd", "--lease-ttl", "179"},
           // Static mode ignores the coordinator-only checks.
           {"--max-start-wait-ms", "30000", "--lease-ttl", "3600"},
       }) {
    auto loaded = Load(flags);
    EXPECT_TRUE(loaded.ok()) << flags[1] << ": " << loaded.status();
  }
}

TEST_F(ConfigTest, EtcdEndpointEntriesAreChecked) {
  struct Case {
    std::string value;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {"", "needs at least one URL"},
           {"http://127.0.0.1:1,,http://127.0.0.1:2", "entry 2 is empty"},
           {"http://127.0.0.1:1,", "entry 2 is empty"},
           {"ftp://127.0.0.1:1", "entry \"ftp://127.0.0.1:1\": unknown scheme"},
           {"http://127.0.0.1", "entry \"http://127.0.0.1\""},
           {"127.0.0.1:0", "entry \"127.0.0.1:0\": the port"},
           {"127.0.0.1:99999", "entry \"127.0.0.1:99999\""},
           {"http://h:2379/v3", "entry \"http://h:2379/v3\""},
           {"http://h:x", "entry \"http://h:x\""},
       }) {
    auto loaded = Load({"--etcd-endpoints", c.value});
    ASSERT_FALSE(loaded.ok()) << c.value;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(loaded.status().message(),
                HasSubstr("etcd.endpoints = \"" + c.value + "\""));
    EXPECT_THAT(loaded.status().message(), HasSubstr(c.expect)) << c.value;
  }
  auto loaded = Load({"--etcd-endpoints",
                      " http://a:2379 ,https://b:2379/,c:2379,[::1]:2379"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.etcd_endpoints,
            (std::vector<std::string>{"http://a:2379", "https://b:2379/",
                                      "c:2379", "[::1]:2379"}));
}

TEST_F(ConfigTest, RegionMapGivesTheWorkerRange) {
  auto loaded = Load({"--coordinator", "etcd", "--regions",
                      "us=0-341,eu=342-683", "--region", "eu"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.regions.ToString(), "eu=342-683,us=0-341");
  EXPECT_EQ(c.worker_range_first, 342);
  EXPECT_EQ(c.worker_range_last, 683);
  EXPECT_EQ(c.worker_range_source, WorkerRangeSource::kRegion);
  EXPECT_EQ(SourceOf(*loaded, "regions"), "flag --regions");

  // An explicit range inside the region's narrows it.
  auto narrow =
      Load({"--coordinator", "etcd", "--regions", "us=0-341,eu=342-683",
            "--region", "eu", "--worker-range", "400-410"});
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  EXPECT_EQ(narrow->config.worker_range_first, 400);
  EXPECT_EQ(narrow->config.worker_range_last, 410);
  EXPECT_EQ(narrow->config.worker_range_source, WorkerRangeSource::kExplicit);

  // Without a map, an explicit range is just that.
  auto plain = Load({"--worker-range", "1-2"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->config.worker_range_source, WorkerRangeSource::kExplicit);
}

TEST_F(ConfigTest, RegionMapFromEnvAndFile) {
  env_["SNOWFLAKE_REGIONS"] = "us=0-341,eu=342-683";
  env_["SNOWFLAKE_REGION"] = "us";
  auto from_env = Load({});
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->config.regions.Find("us"), (WorkerRange{0, 341}));
  EXPECT_EQ(SourceOf(*from_env, "regions"), "env SNOWFLAKE_REGIONS");
  env_.clear();

  const std::string path = WriteFile(
      "[node]\nregion = \"ap\"\n\n"
      "[regions]\nus = \"0-341\"\neu = \"342-683\"\nap = \"684-1023\"\n");
  auto from_file = Load({"--config", path, "--coordinator", "etcd"});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->config.regions.ToString(),
            "ap=684-1023,eu=342-683,us=0-341");
  EXPECT_EQ(from_file->config.worker_range_first, 684);
  EXPECT_EQ(from_file->config.worker_range_last, 1023);
  EXPECT_EQ(SourceOf(*from_file, "regions"), "file " + path + " line 4");

  // Inline, dotted or in the flag's syntax, all the same.
  for (const std::string& text :
       {std::string("regions = { us = \"0-341\", eu = \"342-683\" }\n"),
        std::string("regions.us = \"0-341\"\nregions.eu = \"342-683\"\n"),
        std::string("regions = \"us=0-341,eu=342-683\"\n")}) {
    auto loaded = Load({"--config", WriteFile(text), "--region", "us"});
    ASSERT_TRUE(loaded.ok()) << text << loaded.status();
    EXPECT_EQ(loaded->config.regions.ToString(), "eu=342-683,us=0-341") << text;
  }
}

TEST_F(ConfigTest, RegionMapErrors) {
  struct Case {
    std::vector<std::string> flags;
    std::vector<std::string> expect;
  };
  const std::string map = "us=0-341,eu=342-683";
  for (const Case& c : std::vector<Case>{
           {{"--regions", map, "--region", "ap"},
            {"node.region = \"ap\" (flag --region)", "region \"ap\"",
             "its regions: eu, us"}},
           {{"--regions", map},
            {"node.region = \"\" (default)", "its regions: eu, us"}},
           {{"--coordinator", "etcd", "--regions", map, "--region", "us",
             "--worker-range", "300-400"},
            {"worker.range = \"300-400\" (flag --worker-range)",
             "region us's worker IDs 0-341",
             "regions = \"us=0-341,eu=342-683\" (flag --regions)"}},
           {{"--regions", "us=0-341,eu=341-683", "--region", "us"},
            {"regions = \"us=0-341,eu=341-683\"", "us=0-341", "eu=341-683",
             "overlap"}},
           {{"--regions", "us=0-341,eu=342-1024", "--region", "us"},
            {"regions = \"us=0-341,eu=342-1024\"", "eu=342-1024",
             "worker IDs 0-1023"}},
           {{"--regions", "us=0-341,eu", "--region", "us"},
            {"regions = \"us=0-341,eu\"", "entry \"eu\""}},
           // Static mode: the worker ID must lie in the node's region.
           {{"--regions", map, "--region", "eu"},
            {"worker.id = \"0\" (default)", "region eu's worker IDs 342-683"}},
       }) {
    auto loaded = Load(c.flags);
    ASSERT_FALSE(loaded.ok()) << c.flags[1];
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& expect : c.expect) {
      EXPECT_THAT(loaded.status().message(), HasSubstr(expect)) << c.flags[1];
    }
  }
  EXPECT_TRUE(
      Load({"--regions", map, "--region", "eu", "--worker-id", "342"}).ok());

  auto bad_type = Load({"--config", WriteFile("[regions]\nus = 5\n")});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_THAT(bad_type.status().message(),
              HasSubstr("regions.us (file " + file_ + " line 2)"));
  auto bad_top = Load({"--config", WriteFile("regions = 5\n")});
  ASSERT_FALSE(bad_top.ok());
  EXPECT_THAT(bad_top.status().message(), HasSubstr("a table of NAME"));
}

TEST_F(ConfigTest, PrintConfigRedactsSecrets) {
  env_["SNOWFLAKE_ETCD_PASSWORD"] = "hunter2-from-env";
  auto loaded = Load({"--print-config", "--etcd-user", "root"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::string text = FormatConfig(*loaded);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, HasSubstr("etcd.password = \"<redacted>\"  # env "
                              "SNOWFLAKE_ETCD_PASSWORD\n"));
  EXPECT_THAT(text, HasSubstr("etcd.username = \"root\""));

  env_.clear();
  loaded = Load({"--print-config", "--etcd-password", "hunter2-from-flag"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  text = FormatConfig(*loaded);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, HasSubstr("etcd.password = \"<redacted>\"  # flag "
                              "--etcd-password\n"));

  // Unset, there is nothing to hide.
  loaded = Load({"--print-config"});
  ASSERT_TRUE(loaded.ok());
  EXPECT_THAT(FormatConfig(*loaded),
              HasSubstr("etcd.password = \"\"  # default\n"));
}

TEST_F(ConfigTest, PrintConfigRoundTripsTheRegionMap) {
  auto loaded = Load({"--print-config", "--regions", "us=0-341,eu=342-683",
                      "--region", "eu", "--coordinator", "etcd"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string text = FormatConfig(*loaded);
  EXPECT_THAT(text, HasSubstr("regions = { eu = \"342-683\", us = \"0-341\" }"
                              "  # flag --regions\n"));
  auto reread = Load({"--config", WriteFile(text)});
  ASSERT_TRUE(reread.ok()) << reread.status() << "\n" << text;
  EXPECT_EQ(reread->config.regions, loaded->config.regions);
  EXPECT_EQ(reread->config.worker_range_first, 342);

  auto empty = Load({"--print-config"});
  ASSERT_TRUE(empty.ok());
  const std::string empty_text = FormatConfig(*empty);
  EXPECT_THAT(empty_text, HasSubstr("regions = {}  # default\n"));
  auto reread_empty = Load({"--config", WriteFile(empty_text)});
  ASSERT_TRUE(reread_empty.ok()) << reread_empty.status();
  EXPECT_TRUE(reread_empty->config.regions.empty());
}

// Issue 9 point 6: a layout that can issue no ID now passes every setting's
// own check; --check-config (and a start) must refuse it, naming the
// settings and where they came from.
TEST_F(ConfigTest, LayoutThatCannotIssueNowIsRefused) {
  // 2026-01-01T00:00:00Z.
  constexpr int64_t kNow = 1767225600000;
  auto fine = Load({});
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_TRUE(CheckLayoutAt(*fine, kNow).ok());

  // 2^20 ms (17 minutes) from 2025-01-01.
  auto used_up = Load({"--layout", "20/10/12"});
  ASSERT_TRUE(used_up.ok()) << used_up.status();
  const absl::Status exhausted = CheckLayoutAt(*used_up, kNow);
  EXPECT_EQ(exhausted.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(exhausted.message()),
              HasSubstr("layout.widths = \"20/10/12\" (flag --layout)"));
  EXPECT_THAT(std::string(exhausted.message()),
              HasSubstr("time range is used up"));
  EXPECT_THAT(std::string(exhausted.message()),
              HasSubstr("ran out at 2025-01-01T00:17:28.576Z"));

  env_["SNOWFLAKE_EPOCH"] = "2099-01-01T00:00:00Z";
  auto future = Load({});
  ASSERT_TRUE(future.ok()) << future.status();
  const absl::Status ahead = CheckLayoutAt(*future, kNow);
  EXPECT_EQ(ahead.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(ahead.message()),
              HasSubstr("layout.epoch = \"2099-01-01T00:00:00Z\" (env "
                        "SNOWFLAKE_EPOCH): the epoch "
                        "2099-01-01T00:00:00.000Z is in the future"));
  // The epoch itself is the first instant that can issue.
  EXPECT_TRUE(
      CheckLayoutAt(*future, future->config.layout.epoch_millis()).ok());
}

// Issue 9 point 18: --check-config says what it checked and, in etcd mode,
// that it never contacted etcd (not "worker 0", which etcd mode ignores).
TEST_F(ConfigTest, CheckReportSaysWhatWasNotChecked) {
  constexpr int64_t kNow = 1767225600000;
  auto etcd = Load({"--check-config", "--coordinator", "etcd", "--cluster",
                    "prod", "--regions", "us=0-341,eu=342-683", "--region",
                    "eu", "--etcd-endpoints", "http://10.0.0.1:2379"});
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  const std::string report = CheckReport(*etcd, kNow);
  EXPECT_THAT(report, HasSubstr("configuration ok\n"));
  EXPECT_THAT(report, HasSubstr("layout: 41/10/12"));
  EXPECT_THAT(report, HasSubstr("years from now"));
  EXPECT_THAT(report,
              HasSubstr("etcd mode: an ID of 342-683 (region eu's) is leased "
                        "at start in cluster \"prod\" under /snowflake on "
                        "http://10.0.0.1:2379"));
  EXPECT_THAT(report, HasSubstr("not checked: etcd (not contacted by "
                                "--check-config"));
  EXPECT_THAT(report, Not(HasSubstr("worker ID 0")));

  auto fixed = Load({"--check-config", "--worker-id", "3"});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  const std::string static_report = CheckReport(*fixed, kNow);
  EXPECT_THAT(static_report, HasSubstr("static mode: worker ID 3; "
                                       "high-water mark in ./state"));
  EXPECT_THAT(static_report, HasSubstr("not checked: the state directory"));
  EXPECT_THAT(static_report, Not(HasSubstr("etcd")));
  EXPECT_THAT(CheckReport(*Load({}), kNow),
              HasSubstr("worker ID 0 (the default: only one node may use it)"));
}

// Issue 9 point 17: docs/configuration.md's table, read row by row, lists
// exactly the settings the loader knows, in the same order (the generated
// table is not consulted, so a setting dropped from the code or the docs
// turns this red).
TEST_F(ConfigTest, MarkdownTableListsEverySetting) {
  std::ifstream file(std::string(SNOWFLAKE_SOURCE_DIR) +
                     "/docs/configuration.md");
  ASSERT_TRUE(file.is_open());
  std::vector<std::string> documented;
  std::string line;
  bool in_table = false;
  while (std::getline(file, line)) {
    if (line.starts_with("| file key |")) {
      in_table = true;
      continue;
    }
    if (!in_table || line.starts_with("|---")) continue;
    if (!line.starts_with("| `")) break;
    const size_t end = line.find('`', 3);
    ASSERT_NE(end, std::string::npos) << line;
    documented.push_back(line.substr(3, end - 3));
  }
  auto loaded = Load({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<std::string> known;
  for (const ConfigValue& v : loaded->values) known.push_back(v.key);
  EXPECT_FALSE(known.empty());
  EXPECT_EQ(documented, known);
}

}  // namespace
}  // namespace snowflake

namespace snowflake {
namespace {

// The example file in docs/configuration.md must be a valid configuration.
TEST_F(ConfigTest, ConfigurationMdExampleFileLoads) {
  std::ifstream file(std::string(SNOWFLAKE_SOURCE_DIR) +
                     "/docs/configuration.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const size_t begin = doc.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  auto loaded =
      Load({"--config", WriteFile(doc.substr(begin + 8, end - begin - 8))});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.regions.size(), 3u);
  EXPECT_EQ(loaded->config.worker_id, 3);
}

// What the worker claims publish (AdvertisedAddresses), from the flags as
// an operator gives them.
TEST_F(ConfigTest, AdvertisedAddressesAddTheGrpcAddressAfterHttp) {
  auto advertised = [this](std::vector<std::string> flags) {
    absl::StatusOr<LoadedConfig> loaded = Load(std::move(flags));
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? AdvertisedAddresses(loaded->config)
                       : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  // Without gRPC: the listen address, or --advertise, as before.
  EXPECT_EQ(advertised({"--listen", "127.0.0.1:8080"}), V{"127.0.0.1:8080"});
  EXPECT_EQ(advertised({"--listen", "[::1]:8080"}), V{"[::1]:8080"});
  EXPECT_EQ(advertised({"--advertise", "a:1,b:2"}), (V{"a:1", "b:2"}));
  // With gRPC: its address after the HTTP ones.
  EXPECT_EQ(advertised({"--listen", "127.0.0.1:8080", "--grpc-listen",
                        "127.0.0.1:9090"}),
            (V{"127.0.0.1:8080", "grpc://127.0.0.1:9090"}));
  EXPECT_EQ(
      advertised({"--grpc-listen", "[::1]:9090", "--advertise", "node-1:8080"}),
      (V{"node-1:8080", "grpc://[::1]:9090"}));
  // A wildcard gRPC host takes the advertised host.
  EXPECT_EQ(advertised({"--listen", "0.0.0.0:8080", "--grpc-listen",
                        "0.0.0.0:9090", "--advertise", "node-1.example:80"}),
            (V{"node-1.example:80", "grpc://node-1.example:9090"}));
  EXPECT_EQ(
      advertised({"--listen", "10.0.0.5:8080", "--grpc-listen", "[::]:9090"}),
      (V{"10.0.0.5:8080", "grpc://10.0.0.5:9090"}));
  // --advertise naming a gRPC address is published as it is.
  EXPECT_EQ(advertised({"--grpc-listen", "0.0.0.0:9090", "--advertise",
                        "n:8080,GRPC://n-grpc:443"}),
            (V{"n:8080", "GRPC://n-grpc:443"}));
}

}  // namespace
}  // namespace snowflake
