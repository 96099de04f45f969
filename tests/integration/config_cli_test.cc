// Issue 9, point 9, end to end: a --config that is not a regular file is
// refused (exit 2), a misspelt SNOWFLAKE_* variable is warned about,
// --print-config hides the etcd password, and SIGHUP, SIGUSR1, SIGUSR2 and
// SIGALRM are logged and ignored instead of killing the node undrained.
// Points 6 and 18: --help groups the flags by section with each type and
// default, and --check-config refuses a layout that can issue no ID now and
// says what it checked and what it did not.
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

// Point 18: not one list of TEXT options, but the file's sections, each
// flag with its type and its default.
TEST(ConfigCliTest, HelpGroupsFlagsBySectionWithTypesAndDefaults) {
  TempDir dir;
  auto help = RunToExit(dir, {"--help"});
  EXPECT_EQ(help->exit_code(), 0) << help->Log();
  const std::string text = help->Log();
  EXPECT_THAT(text, Not(HasSubstr(" TEXT"))) << text;
  for (const char* group :
       {"[node] settings:", "[layout] settings:", "[worker] settings:",
        "[etcd] settings:", "[zookeeper] settings:", "[limits] settings:",
        "[log] settings:"}) {
    EXPECT_THAT(text, HasSubstr(group)) << text;
  }
  EXPECT_THAT(text, HasSubstr("--max-batch N=100000"));
  EXPECT_THAT(text, HasSubstr("--state-dir DIR=./state"));
  EXPECT_THAT(text, HasSubstr("--access-log BOOL=false"));
}

// Point 6: both pass every setting's own check, and neither can issue an ID.
TEST(ConfigCliTest, CheckConfigRefusesALayoutThatCannotIssueNow) {
  TempDir dir;
  auto used_up = RunToExit(dir, {"--check-config", "--layout", "20/10/12"});
  EXPECT_EQ(used_up->exit_code(), 2) << used_up->Log();
  EXPECT_THAT(used_up->Log(),
              HasSubstr("snowflaked: configuration error: layout.widths = "
                        "\"20/10/12\" (flag --layout)"));
  EXPECT_THAT(used_up->Log(), HasSubstr("time range is used up"));

  for (const std::string epoch : {"2099-01-01T00:00:00Z", "2099-01-01"}) {
    auto future = RunToExit(dir, {"--check-config", "--epoch", epoch});
    EXPECT_EQ(future->exit_code(), 2) << future->Log();
    EXPECT_THAT(future->Log(), HasSubstr("the epoch 2099-01-01T00:00:00.000Z "
                                         "is in the future"))
        << epoch;
  }
}

// Point 18: in etcd mode --check-config never contacts etcd and says so,
// rather than "worker 0", an ID etcd mode never uses.
TEST(ConfigCliTest, CheckConfigSaysWhatItCheckedAndWhatItDidNot) {
  TempDir dir;
  auto etcd = RunToExit(
      dir, {"--check-config", "--coordinator", "etcd", "--etcd-endpoints",
            "http://127.0.0.1:1", "--cluster", "prod"});
  EXPECT_EQ(etcd->exit_code(), 0) << etcd->Log();
  EXPECT_THAT(etcd->Log(), HasSubstr("configuration ok"));
  EXPECT_THAT(etcd->Log(), HasSubstr("etcd mode: an ID of 0-1023"));
  EXPECT_THAT(etcd->Log(), HasSubstr("cluster \"prod\" under /snowflake on "
                                     "http://127.0.0.1:1"));
  EXPECT_THAT(etcd->Log(), HasSubstr("not checked: etcd (not contacted by "
                                     "--check-config"));
  EXPECT_THAT(etcd->Log(), Not(HasSubstr("worker 0")));

  auto fixed = RunToExit(dir, {"--check-config", "--worker-id", "7"});
  EXPECT_EQ(fixed->exit_code(), 0) << fixed->Log();
  EXPECT_THAT(fixed->Log(), HasSubstr("static mode: worker ID 7"));
  EXPECT_THAT(fixed->Log(), HasSubstr("not checked: the state directory"));
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
