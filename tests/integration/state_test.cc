// The state a static node keeps and what it tells about it: a HWM store
// that fails is logged (rate-limited) and turns /readyz 503 once the
// headroom is gone, and both recover with the store; a node that starts
// without a HWM for its worker ID says so at warning level; a node that
// can make no ID at all (its layout's time range used up, its epoch in the
// future) is never ready, and the future epoch leaves no mark that would
// hold the next run back.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Polls `done` every 20 ms for up to `timeout`; its last answer.
bool Eventually(const std::function<bool()>& done,
                milliseconds timeout = milliseconds(10'000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

int Status(int port, const std::string& target, std::string* body = nullptr) {
  RawHttpConnection c(port);
  auto r = c.Get(target);
  if (!r) return 0;
  if (body != nullptr) *body = r->body;
  return r->status;
}

// The log's lines holding `event`.
std::vector<std::string> LinesWith(const std::string& log,
                                   const std::string& event) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(event) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

TEST(StateTest, HwmStoreFailureIsLoggedAndReadyzFollowsTheHeadroom) {
  TempDir dir;
  auto node = StartNode(dir.path(), {"--hwm-reserve-ms", "1000"});
  ASSERT_TRUE(node->ready()) << node->Log();
  ASSERT_EQ(Status(node->port(), "/readyz"), 200);

  // The tests run as root, whom a read-only directory does not stop: a
  // directory where the temp file must go makes every store fail.
  const std::string obstacle = dir.path() + "/hwm-worker-3.tmp";
  ASSERT_TRUE(std::filesystem::create_directory(obstacle));
  std::string body;
  EXPECT_TRUE(Eventually([&] {
    return Status(node->port(), "/readyz", &body) == 503;
  })) << node->Log();
  EXPECT_THAT(body, HasSubstr("high-water mark has run out"));
  EXPECT_EQ(Status(node->port(), "/v1/id"), 503);
  EXPECT_TRUE(Eventually([&] {
    return !LinesWith(node->Log(), "event=hwm_store_failed").empty();
  })) << node->Log();
  std::vector<std::string> failed =
      LinesWith(node->Log(), "event=hwm_store_failed");
  ASSERT_FALSE(failed.empty()) << node->Log();
  EXPECT_THAT(failed[0], HasSubstr(" warning "));
  EXPECT_THAT(failed[0], HasSubstr("error=\""));
  EXPECT_THAT(failed[0], HasSubstr("hwm-worker-3.tmp"));

  // A store retried at every poll (10 a second) fails many times; the log
  // says so once, then at most every few seconds.
  std::this_thread::sleep_for(milliseconds(1500));
  std::string metrics;
  ASSERT_EQ(Status(node->port(), "/metrics", &metrics), 200);
  const size_t at = metrics.find("\nsnowflake_hwm_store_failures_total ");
  ASSERT_NE(at, std::string::npos) << metrics;
  const double failures = std::stod(metrics.substr(
      at + std::string("\nsnowflake_hwm_store_failures_total ").size()));
  EXPECT_GE(failures, 10);
  EXPECT_LE(LinesWith(node->Log(), "event=hwm_store_failed").size(), 2u)
      << node->Log();

  // The obstacle gone, the next store succeeds: logged, and ready again.
  std::filesystem::remove(obstacle);
  EXPECT_TRUE(Eventually([&] {
    return Status(node->port(), "/readyz", &body) == 200;
  })) << body
      << node->Log();
  EXPECT_TRUE(Eventually([&] {
    return !LinesWith(node->Log(), "event=hwm_store_recovered").empty();
  })) << node->Log();
  EXPECT_EQ(Status(node->port(), "/v1/id"), 200);

  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();
}

// A HWM file that is not exactly what snowflaked wrote is refused at start,
// naming the file and the line, rather than read as some other mark: here
// cut short (an old parser read "hwm_unix_ms=17" as 17 ms) and a mark so
// large that ms -> us overflows (an old parser skipped the wait).
TEST(StateTest, HwmFileNotAsWrittenRefusesToStart) {
  TempDir dir;
  const std::string hwm = dir.path() + "/hwm-worker-3";
  const std::vector<std::string> bad = {
      "hwm_unix_ms=17",
      "hwm_unix_ms=17\nhwm_unix_ms=4000000000000\n",
      "hwm_unix_ms=9300000000000000\n",
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    std::ofstream(hwm, std::ios::trunc) << bad[i];
    auto node =
        StartNode(dir.path(), {}, {}, "bad-" + std::to_string(i) + ".log");
    EXPECT_FALSE(node->ready()) << bad[i] << "\n" << node->Log();
    auto code = node->Wait(std::chrono::seconds(15));
    ASSERT_TRUE(code.has_value()) << node->Log();
    EXPECT_NE(*code, 0);
    EXPECT_THAT(node->Log(), HasSubstr("event=start_failed"));
    EXPECT_THAT(node->Log(), HasSubstr("DATA_LOSS"));
    EXPECT_THAT(node->Log(), HasSubstr(hwm + " line "));
    EXPECT_THAT(node->Log(), HasSubstr("Restore it"));
  }
}

// The worker ID of a default-layout ID (41/10/12).
int64_t WorkerOfId(uint64_t id) {
  return static_cast<int64_t>((id >> 12) & 1023);
}

// Binary batches of 1,000 over `n` connections, one each (the node deals
// connections to its I/O threads in turn).
std::vector<uint64_t> TakeOverConnections(int port, int n) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i) {
    RawHttpConnection c(port);
    auto r = c.Get("/v1/ids?count=1000&format=binary");
    EXPECT_TRUE(r.has_value() && r->status == 200);
    if (!r) continue;
    const std::vector<uint64_t> batch = DecodeBinary(r->body);
    ids.insert(ids.end(), batch.begin(), batch.end());
  }
  return ids;
}

// --workers 2 in static mode holds worker.id and the next one, each with its
// own mark in the state dir, each issued from (an I/O thread each); after
// a restart each goes on above its own last ID. An ID past the layout's
// last worker is refused at start, naming both settings.
TEST(StateTest, StaticNodeWithTwoWorkersKeepsAMarkForEach) {
  TempDir dir;
  std::map<int64_t, uint64_t> last_of;
  {
    auto node = StartNode(dir.path(), {"--workers", "2"});
    ASSERT_TRUE(node->ready()) << node->Log();
    std::string body;
    ASSERT_EQ(Status(node->port(), "/v1/info", &body), 200);
    const nlohmann::json info = nlohmann::json::parse(body);
    EXPECT_EQ(info["worker_ids"], nlohmann::json::parse("[3,4]")) << body;
    EXPECT_EQ(info["workers_wanted"], 2);
    EXPECT_EQ(info["workers_held"], 2);
    // Worker 3's fresh mark is the node's own: not a hint that worker 4's
    // directory is the wrong one.
    EXPECT_THAT(node->Log(), Not(HasSubstr("but none for worker 4")));
    for (uint64_t id : TakeOverConnections(node->port(), 6)) {
      uint64_t& last = last_of[WorkerOfId(id)];
      last = std::max(last, id);
    }
    EXPECT_EQ(last_of.size(), 2u);
    EXPECT_TRUE(last_of.contains(3) && last_of.contains(4));
    node->Signal(SIGTERM);
    ASSERT_EQ(node->Wait(std::chrono::seconds(10)), 0) << node->Log();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/hwm-worker-3"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/hwm-worker-4"));
  {
    auto node = StartNode(dir.path(), {"--workers", "2"}, {}, "again.log");
    ASSERT_TRUE(node->ready()) << node->Log();
    std::set<int64_t> seen;
    for (uint64_t id : TakeOverConnections(node->port(), 6)) {
      const int64_t worker = WorkerOfId(id);
      seen.insert(worker);
      EXPECT_GT(id, last_of[worker]) << "worker " << worker;
    }
    EXPECT_EQ(seen, (std::set<int64_t>{3, 4}));
  }
  // Not StartNode: its --worker-id 3 cannot be given twice.
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir", dir.path(),  "--worker-id",
                  "1023",        "--workers", "2"};
  options.log_path = dir.path() + "/past.log";
  auto past = DaemonProcess::Start(options);
  EXPECT_FALSE(past->ready());
  EXPECT_EQ(past->Wait(std::chrono::seconds(10)), 2) << past->Log();
  EXPECT_THAT(past->Log(), HasSubstr("worker IDs 1023 to 1024"));
}

// A state dir that holds another worker's mark but none for this node's
// (a changed --worker-id, the wrong directory) is not a silent fresh start:
// the node warns, naming what it found. With its own mark, it does not.
TEST(StateTest, StartingWithoutItsOwnHwmIsAWarning) {
  TempDir dir;
  std::ofstream(dir.path() + "/hwm-worker-0") << "hwm_unix_ms=1700000000000\n";
  auto node = StartNode(dir.path());  // --worker-id 3.
  ASSERT_TRUE(node->ready()) << node->Log();
  const std::vector<std::string> missing =
      LinesWith(node->Log(), "event=hwm_missing");
  ASSERT_EQ(missing.size(), 1u) << node->Log();
  EXPECT_THAT(missing[0], HasSubstr(" warning "));
  EXPECT_THAT(missing[0], HasSubstr("worker_id=3"));
  EXPECT_THAT(missing[0],
              HasSubstr("holds a HWM for worker 0 but none for worker 3: "
                        "starting without a high-water mark"));
  EXPECT_THAT(missing[0], HasSubstr(dir.path() + "/hwm-worker-3"));
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();

  auto again = StartNode(dir.path(), {}, {}, "again.log");
  ASSERT_TRUE(again->ready()) << again->Log();
  EXPECT_TRUE(LinesWith(again->Log(), "event=hwm_missing").empty())
      << again->Log();
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(std::chrono::seconds(15)), 0) << again->Log();
}

// A node that can make no ID is not ready, and says what to fix. (A
// config check that refuses such a node at start is as good: it never
// answers 200 either.)
void ExpectNeverReady(DaemonProcess& node, const std::string& reason) {
  if (!node.ready()) {
    auto code = node.Wait(std::chrono::seconds(15));
    ASSERT_TRUE(code.has_value()) << node.Log();
    EXPECT_NE(*code, 0) << node.Log();
    EXPECT_THAT(node.Log(), AnyOf(HasSubstr("epoch"), HasSubstr("range")));
    return;
  }
  std::string body;
  EXPECT_EQ(Status(node.port(), "/readyz", &body), 503) << body;
  EXPECT_THAT(body, HasSubstr(reason));
  EXPECT_THAT(body, HasSubstr("no ID can be made"));
  std::string id_body;
  EXPECT_NE(Status(node.port(), "/v1/id", &id_body), 200) << id_body;
  // Not a passing moment: it stays so.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Status(node.port(), "/readyz"), 503);
  std::string info;
  EXPECT_EQ(Status(node.port(), "/metrics", &info), 200);
  EXPECT_NE(info.find("\nsnowflake_ready 0\n"), std::string::npos)
      << "snowflake_ready is not 0";
  node.Signal(SIGTERM);
  EXPECT_TRUE(node.Wait(std::chrono::seconds(15)).has_value()) << node.Log();
}

TEST(StateTest, LayoutWhoseTimeRangeIsUsedUpIsNeverReady) {
  TempDir dir;
  // 2^20 ms (17 minutes) from 2025-01-01: long over.
  auto node = StartNode(dir.path(), {"--layout", "20/10/12"});
  ExpectNeverReady(*node, "time range is used up");
}

TEST(StateTest, FutureEpochIsNeverReadyAndLeavesNoMarkAhead) {
  TempDir dir;
  const auto now_ms = [] {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t started_ms = now_ms();
  auto node = StartNode(dir.path(), {"--epoch", "2099-01-01T00:00:00Z"});
  ExpectNeverReady(*node, "before the layout's epoch");
  node.reset();

  // Whatever was stored is no later than the clock plus the reserve (5 s by
  // default), not the epoch: with the epoch fixed, the node starts at once.
  const std::string hwm = dir.path() + "/hwm-worker-3";
  if (std::filesystem::exists(hwm)) {
    std::ifstream in(hwm);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const size_t at = text.find("hwm_unix_ms=");
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_LE(std::stoll(text.substr(at + 12)), now_ms() + 5000)
        << "a mark at the future epoch: " << text;
  }
  auto fixed =
      StartNode(dir.path(), {"--max-start-wait-ms", "10000"}, {}, "fixed.log");
  ASSERT_TRUE(fixed->ready()) << fixed->Log();
  EXPECT_EQ(Status(fixed->port(), "/v1/id"), 200);
  EXPECT_LT(now_ms() - started_ms, 30'000);
  fixed->Signal(SIGTERM);
  EXPECT_EQ(fixed->Wait(std::chrono::seconds(15)), 0) << fixed->Log();
}

}  // namespace
}  // namespace snowflake::testing
