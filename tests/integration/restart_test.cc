// Restarts under load with one state directory: graceful (SIGTERM), crash
// (SIGKILL), and with the clock set back by libfaketime. No ID repeats
// across the runs; a node whose clock is behind its stored high-water mark
// waits, or refuses to start if it is too far behind.
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Takes binary batches on `clients` keep-alive connections until the node
// stops answering; returns everything taken.
class Load {
 public:
  Load(int port, int clients) {
    ids_.resize(clients);  // Before any thread can write its slot.
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port, i] {
        RawHttpConnection c(port);
        while (true) {
          auto r = c.Get("/v1/ids?count=2000", "application/octet-stream");
          if (!r || r->status != 200) return;
          std::vector<uint64_t> ids = DecodeBinary(r->body);
          std::lock_guard<std::mutex> lock(mu_);
          ids_[i].insert(ids_[i].end(), ids.begin(), ids.end());
        }
      });
    }
  }
  std::vector<uint64_t> Join() {
    for (auto& t : threads_) t.join();
    std::vector<uint64_t> all;
    for (auto& per : ids_) {
      for (size_t i = 1; i < per.size(); ++i) EXPECT_GT(per[i], per[i - 1]);
      all.insert(all.end(), per.begin(), per.end());
    }
    return all;
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<uint64_t>> ids_;
  std::vector<std::thread> threads_;
};

// One run: start, load for a while, stop with `signal`.
std::vector<uint64_t> RunOnce(
    const std::string& dir, int signal, std::vector<std::string> args = {},
    std::vector<std::pair<std::string, std::string>> env = {}) {
  auto node = StartNode(dir, std::move(args), std::move(env));
  EXPECT_TRUE(node->ready()) << node->Log();
  if (!node->ready()) return {};
  Load load(node->port(), 4);
  std::this_thread::sleep_for(milliseconds(400));
  node->Signal(signal);
  auto code = node->Wait(std::chrono::seconds(15));
  std::vector<uint64_t> ids = load.Join();
  EXPECT_TRUE(code.has_value());
  if (signal == SIGTERM) {
    EXPECT_EQ(code, 0) << node->Log();
    EXPECT_THAT(node->Log(), HasSubstr("event=stopped"));
  }
  EXPECT_GT(ids.size(), 1000u) << node->Log();
  return ids;
}

void ExpectAllAfter(const std::vector<uint64_t>& later,
                    const std::vector<uint64_t>& earlier) {
  if (later.empty() || earlier.empty()) return;
  EXPECT_GT(*std::min_element(later.begin(), later.end()),
            *std::max_element(earlier.begin(), earlier.end()));
}

void ExpectUnique(std::vector<uint64_t> all) {
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "an ID was issued twice";
}

TEST(RestartTest, GracefulCrashAndClockBackNeverRepeat) {
  TempDir dir;
  std::vector<uint64_t> all;

  const std::vector<uint64_t> first = RunOnce(dir.path(), SIGTERM);
  const std::vector<uint64_t> second = RunOnce(dir.path(), SIGTERM);
  ExpectAllAfter(second, first);
  // A crash leaves the stored mark up to the HWM reserve (1 s here) ahead.
  const std::vector<uint64_t> third =
      RunOnce(dir.path(), SIGKILL, {"--hwm-reserve-ms", "1000"});
  ExpectAllAfter(third, second);
  const std::vector<uint64_t> fourth = RunOnce(dir.path(), SIGTERM);
  ExpectAllAfter(fourth, third);

  // Clock set back 10 s, more than the node may wait: it refuses to start.
  const std::vector<std::pair<std::string, std::string>> ten_back = {
      {"LD_PRELOAD", LIBFAKETIME_PATH}, {"FAKETIME", "-10s"}};
  {
    auto node = StartNode(dir.path(), {"--max-start-wait-ms", "2000"}, ten_back,
                          "refuse.log");
    EXPECT_FALSE(node->ready()) << node->Log();
    auto code = node->Wait(std::chrono::seconds(15));
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0);
    EXPECT_THAT(node->Log(), HasSubstr("event=start_failed"));
  }

  // Clock set back 2 s: it waits until its clock passes the mark, then
  // issues IDs above all earlier ones.
  const std::vector<std::pair<std::string, std::string>> two_back = {
      {"LD_PRELOAD", LIBFAKETIME_PATH}, {"FAKETIME", "-2s"}};
  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint64_t> fifth =
      RunOnce(dir.path(), SIGTERM, {}, two_back);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1500));
  ExpectAllAfter(fifth, fourth);

  for (const auto* run : {&first, &second, &third, &fourth, &fifth}) {
    all.insert(all.end(), run->begin(), run->end());
  }
  ExpectUnique(all);
}

TEST(RestartTest, ReadyzFalseAtOnceOnSigtermAndSecondSignalExits) {
  TempDir dir;
  auto node = StartNode(dir.path(), {"--drain-timeout-ms", "5000"});
  ASSERT_TRUE(node->ready()) << node->Log();
  // A keep-alive client in the middle of a request holds the drain open.
  RawHttpConnection holder(node->port());
  ASSERT_TRUE(holder.Send("GET /v1/id HTTP/1.1\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(10)), 0) << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("event=shutdown_begin"));

  // Second signal: exits at once even during a long drain.
  auto again = StartNode(dir.path(), {"--drain-timeout-ms", "60000"});
  ASSERT_TRUE(again->ready()) << again->Log();
  RawHttpConnection c(again->port());
  ASSERT_EQ(c.Get("/v1/id")->status, 200);
  again->Signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(100));
  again->Signal(SIGTERM);
  auto code = again->Wait(std::chrono::seconds(5));
  EXPECT_TRUE(code.has_value()) << again->Log();
}

}  // namespace
}  // namespace snowflake::testing
