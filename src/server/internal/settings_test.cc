// The settings table against what depends on it: the defaults of Config and
// of the option structs (issue 9 point 12: one source of truth), --help
// (point 18: grouped by section, with each type and default), the layout's
// spelling, and docs/configuration.md.
#include "src/server/internal/settings.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/generator.h"
#include "src/lease/cluster_schema.h"
#include "src/server/config.h"
#include "src/server/http_handler.h"
#include "src/server/http_listener.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<LoadedConfig> LoadWith(std::vector<std::string> args) {
  args.insert(args.begin(), "snowflaked");
  return LoadConfig(args, [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
}

std::string ReadDoc(const std::string& name) {
  std::ifstream file(std::string(SNOWFLAKE_SOURCE_DIR) + "/docs/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A default written twice drifts: Config's initializers and the settings
// table both take theirs from limits.h, so a Config nobody configured is the
// one LoadConfig makes of no file, flag or variable.
TEST(SettingsDefaultsTest, DefaultConfigIsWhatLoadConfigMakesOfNothing) {
  auto loaded = LoadWith({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->config == Config{})
      << "a default differs between Config and the settings table:\n"
      << FormatConfig(*loaded);
}

// The option structs the daemon fills from Config start from the same
// defaults, so a test or a caller that leaves a field alone gets what
// snowflaked would run with.
TEST(SettingsDefaultsTest, OptionStructsDefaultToTheConfigDefaults) {
  auto loaded = LoadWith({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;

  const ListenerOptions listener;
  EXPECT_EQ(listener.host, c.listen_host);
  EXPECT_EQ(listener.port, c.listen_port);
  EXPECT_EQ(listener.threads, c.threads);
  EXPECT_EQ(listener.max_header_bytes, c.max_header_bytes);
  EXPECT_EQ(listener.max_connections, c.max_connections);
  EXPECT_EQ(listener.idle_timeout_millis, c.idle_timeout_millis);
  EXPECT_EQ(listener.header_timeout_millis, c.header_timeout_millis);
  EXPECT_EQ(listener.access_log, c.access_log);

  const HandlerOptions handler;
  EXPECT_EQ(handler.max_batch, c.max_batch);

  const NodeOptions node;
  EXPECT_EQ(node.clock_source, c.clock_source);
  EXPECT_EQ(node.hwm_reserve_millis, c.hwm_reserve_millis);
  EXPECT_EQ(node.max_start_wait_millis, c.max_start_wait_millis);
  EXPECT_EQ(node.start_timeout_millis, c.start_timeout_seconds * 1000);
  EXPECT_EQ(node.generator.layout, c.layout);
  EXPECT_EQ(node.generator.tolerance_millis, c.tolerance_millis);
  EXPECT_EQ(node.generator.max_borrow_millis, c.max_borrow_millis);
  EXPECT_EQ(node.generator.sequence_start_max, c.sequence_start_max);

  EXPECT_EQ(c.etcd_prefix, cluster_schema::kDefaultPrefix);
}

// Every row's default is a value the setting itself accepts, and is what
// --print-config reports as the default.
TEST(SettingsDefaultsTest, EveryDefaultIsReportedAsItsSource) {
  auto loaded = LoadWith({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->values.size(), internal::Settings().size());
  for (size_t i = 0; i < loaded->values.size(); ++i) {
    const internal::Setting& s = internal::Settings()[i];
    EXPECT_EQ(loaded->values[i].key, s.key);
    EXPECT_EQ(loaded->values[i].value, s.default_text) << s.key;
    EXPECT_EQ(loaded->values[i].source, "default") << s.key;
  }
}

// --help reads like the file: one group per TOML table, in the file's
// order, each flag with its type and its default.
TEST(SettingsHelpTest, HelpGroupsFlagsBySectionWithTypeAndDefault) {
  auto loaded = LoadWith({"--help"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->action, ConfigAction::kExit);
  const std::string& help = loaded->output;
  EXPECT_THAT(help, Not(HasSubstr(" TEXT"))) << help;
  size_t last = 0;
  for (const char* group :
       {"General:", "Top-level settings", "[node] settings:",
        "[layout] settings:", "[clock] settings:", "[generator] settings:",
        "[worker] settings:", "[regions] settings:", "[etcd] settings:",
        "[zookeeper] settings:", "[limits] settings:", "[log] settings:"}) {
    const size_t at = help.find(group);
    ASSERT_NE(at, std::string::npos) << group << " missing:\n" << help;
    EXPECT_GT(at, last) << group << " out of order:\n" << help;
    last = at;
  }
  EXPECT_THAT(help, HasSubstr("--listen HOST:PORT=127.0.0.1:8080"));
  EXPECT_THAT(help, HasSubstr("--layout T/W/S|PRESET=default"));
  EXPECT_THAT(help, HasSubstr("--max-batch N=100000"));
  EXPECT_THAT(help, HasSubstr("--etcd-prefix /PATH=/snowflake"));
  EXPECT_THAT(help, HasSubstr("--log-format text|json=text"));
  EXPECT_THAT(help, HasSubstr("--config FILE"));
  // A flag sits in its own section: --max-batch under [limits].
  const size_t limits = help.find("[limits] settings:");
  const size_t log = help.find("[log] settings:");
  const size_t max_batch = help.find("--max-batch");
  EXPECT_GT(max_batch, limits);
  EXPECT_LT(max_batch, log);
}

// gRPC is off unless asked for, and then bound only where asked.
TEST(SettingsGrpcTest, GrpcListenIsOffByDefaultAndTakesHostPort) {
  auto defaults = LoadWith({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->config.grpc_listen, "");
  EXPECT_THAT(FormatConfig(*defaults),
              HasSubstr("grpc_listen = \"\"  # default\n"));
  for (const char* address : {"127.0.0.1:9090", "[::1]:9090", "0.0.0.0:0"}) {
    auto loaded = LoadWith({"--grpc-listen", address});
    ASSERT_TRUE(loaded.ok()) << address << ": " << loaded.status();
    EXPECT_EQ(loaded->config.grpc_listen, address);
    // The HTTP address stays as it was.
    EXPECT_EQ(loaded->config.listen_port, limits::kDefaultListenPort);
  }
  for (const char* bad : {"nohost", ":9090", "127.0.0.1:65536", "[]:9090"}) {
    auto loaded = LoadWith({"--grpc-listen", bad});
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_THAT(loaded.status().message(), HasSubstr("grpc_listen")) << bad;
  }
}

// The admin listener is off unless asked for; its address is parsed once,
// for the daemon, and a bad one is refused naming the setting.
TEST(SettingsAdminTest, AdminListenIsOffByDefaultAndTakesHostPort) {
  auto defaults = LoadWith({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->config.admin_listen, "");
  EXPECT_EQ(defaults->config.admin_listen_host, "");
  auto loaded = LoadWith({"--admin-listen", "127.0.0.1:9100"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.admin_listen, "127.0.0.1:9100");
  EXPECT_EQ(loaded->config.admin_listen_host, "127.0.0.1");
  EXPECT_EQ(loaded->config.admin_listen_port, 9100);
  EXPECT_EQ(loaded->config.listen_port, limits::kDefaultListenPort);
  auto v6 = LoadWith({"--admin-listen", "[::1]:0"});
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->config.admin_listen_host, "::1");
  EXPECT_EQ(v6->config.admin_listen_port, 0);
  for (const char* bad : {"nohost", ":9100", "127.0.0.1:65536", "[]:9100"}) {
    auto refused = LoadWith({"--admin-listen", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(refused.status().message(), HasSubstr("admin_listen")) << bad;
  }
}

// snowflaked's --layout takes every preset name, and `snowflake --layout`
// the same ones (src/cli/commands_test.cc).
TEST(SettingsLayoutTest, EveryPresetNameIsALayout) {
  for (const std::string& name : Layout::PresetNames()) {
    auto layout = internal::ParseLayoutText(name);
    ASSERT_TRUE(layout.ok()) << name << ": " << layout.status();
    EXPECT_EQ(*layout, *Layout::Preset(name)) << name;
  }
  auto widths = internal::ParseLayoutText("39/12/12");
  ASSERT_TRUE(widths.ok()) << widths.status();
  EXPECT_EQ(widths->time_bits(), 39);
  auto bad = internal::ParseLayoutText("sonyflake");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("presets: default, twitter, discord, js53"));
}

// docs/configuration.md must carry the table the code generates.
TEST(ConfigDocsTest, ConfigurationMdMatchesCode) {
  EXPECT_THAT(ReadDoc("configuration.md"), HasSubstr(ConfigMarkdownTable()))
      << "Regenerate the table in docs/configuration.md:\n"
      << ConfigMarkdownTable();
}

// docs/metrics.md must name every metric family the node exports.
TEST(ConfigDocsTest, MetricsMdListsEveryFamily) {
  const std::string doc = ReadDoc("metrics.md");
  Metrics metrics({"v", "l", "m"});
  std::stringstream rendered(
      metrics.Render(NodeStatus(), internal::ReadProcessStats()));
  std::string line;
  while (std::getline(rendered, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_THAT(doc, HasSubstr("`" + name + "`"));
  }
}

}  // namespace
}  // namespace snowflake
