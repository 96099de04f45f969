// Issue 9, point 9, end to end: a --config that is not a regular file is
// refused (exit 2), a misspelt SNOWFLAKE_* variable is warned about,
// --print-config hides the etcd password, and SIGHUP, SIGUSR1, SIGUSR2 and
// SIGALRM are logged and ignored instead of killing the node undrained.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs snowflaked with `args` (e.g. --check-config) to its exit.
std::unique_ptr<DaemonProcess> RunToExit(
    const TempDir& dir, std::vector<std::string> args,
    std::vector<std::pair<std::string, std::string>> env = {}) {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir", dir.path() + "/state"};
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.env = std::move(env);
  options.log_path = dir.path() + "/out.log";
  options.ready_timeout = std::chrono::seconds(10);
  auto process = DaemonProcess::Start(options);
  process->Wait(std::chrono::seconds(10));
  return process;
}

TEST(ConfigCliTest, ConfigThatIsNotARegularFileIsRefused) {
  TempDir dir;
  for (const std::string& path : {dir.path(), std::string("/dev/zero")}) {
    auto run = RunToExit(dir, {"--config", path, "--check-config"});
    EXPECT_EQ(run->exit_code(), 2) << path << ": " << run->Log();
    EXPECT_THAT(run->Log(),
                HasSubstr("config file " + path + ": not a regular file"));
  }
}

TEST(ConfigCliTest, MisspeltEnvironmentVariableIsWarnedAbout) {
  TempDir dir;
  auto check = RunToExit(
      dir, {"--check-config"},
      {{"SNOWFLAKE_WORKER_IDD", "5"}, {"SNOWFLAKE_KEEP_TEST_DIRS", "1"}});
  EXPECT_EQ(check->exit_code(), 0) << check->Log();
  EXPECT_THAT(check->Log(),
              HasSubstr("environment variable SNOWFLAKE_WORKER_IDD is not a "
                        "setting; ignored (did you mean "
                        "SNOWFLAKE_WORKER_ID?)"));
  EXPECT_THAT(check->Log(), Not(HasSubstr("SNOWFLAKE_KEEP_TEST_DIRS")));

  // A running node says it in its log, once per name.
  auto node = StartNode(dir.path(), {}, {{"SNOWFLAKE_WORKER_IDD", "5"}});
  ASSERT_TRUE(node->ready()) << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("event=unknown_env "
                                     "name=SNOWFLAKE_WORKER_IDD "
                                     "suggestion=SNOWFLAKE_WORKER_ID "));
}

TEST(ConfigCliTest, PrintConfigRedactsTheEtcdPassword) {
  TempDir dir;
  auto print = RunToExit(dir, {"--print-config", "--etcd-user", "root"},
                         {{"SNOWFLAKE_ETCD_PASSWORD", "hunter2-secret"}});
  EXPECT_EQ(print->exit_code(), 0) << print->Log();
  EXPECT_THAT(print->Log(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(print->Log(), HasSubstr("etcd.password = \"<redacted>\"  # env "
                                      "SNOWFLAKE_ETCD_PASSWORD\n"));
}

TEST(SignalTest, HangupAndUserSignalsAreLoggedAndIgnored) {
  TempDir dir;
  auto node = StartNode(dir.path());
  ASSERT_TRUE(node->ready()) << node->Log();
  for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM}) {
    node->Signal(sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(node->running()) << "signal " << sig << " killed the node:\n"
                                 << node->Log();
    auto r = HttpGet(node->port(), "/v1/id");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << sig;
  }
  auto ready = HttpGet(node->port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  for (const char* name : {"SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM"}) {
    EXPECT_THAT(node->Log(), HasSubstr(std::string("event=signal_ignored "
                                                   "signal=") +
                                       name + " action="));
  }
  // SIGTERM still drains and stops.
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("event=stopped"));
}

}  // namespace
}  // namespace snowflake::testing
