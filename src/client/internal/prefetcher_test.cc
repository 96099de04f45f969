#include "src/client/internal/prefetcher.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/simulated_clock.h"

namespace snowflake::client::internal {
namespace {

using ::snowflake::testing::SimulatedClock;
using ::testing::HasSubstr;

PrefetcherOptions Options() {
  PrefetcherOptions options;
  options.max_staleness_micros = 100'000;
  options.min_batch = 8;
  options.max_batch = 64;
  options.deadline_micros = 1'000'000;
  return options;
}

TEST(NextBatchSizeTest, AQuarterOfTheStalenessAtTheRateWithinLimits) {
  PrefetcherOptions options;
  options.max_staleness_micros = 1'000'000;
  options.min_batch = 16;
  options.max_batch = 65'536;
  EXPECT_EQ(NextBatchSize(0, false, 16, options), 16);
  EXPECT_EQ(NextBatchSize(10, false, 16, options), 16);
  EXPECT_EQ(NextBatchSize(1000, false, 16, options), 250);
  EXPECT_EQ(NextBatchSize(1e6, false, 16, options), 65'536);
  EXPECT_EQ(NextBatchSize(1e30, false, 16, options), 65'536);
  // A miss doubles the last batch at least: the rate seen while takers
  // wait is what was supplied, not what was asked.
  EXPECT_EQ(NextBatchSize(0, true, 100, options), 200);
  EXPECT_EQ(NextBatchSize(4000, true, 100, options), 1000);
  EXPECT_EQ(NextBatchSize(0, true, 60'000, options), 65'536);
  options.max_staleness_micros = 100'000;
  EXPECT_EQ(NextBatchSize(1000, false, 16, options), 25);
}

TEST(CoarseGuardTest, EightTicksOrAnEighthOfTheStalenessWithinIt) {
  EXPECT_EQ(CoarseGuard(1'000'000, 4000), 125'000);
  EXPECT_EQ(CoarseGuard(200'000, 4000), 32'000);
  EXPECT_EQ(CoarseGuard(20'000, 4000), 20'000);
  EXPECT_EQ(CoarseGuard(1'000'000, 0), 0);  // One clock: no guard.
}

// A cluster on a simulated clock: hands out consecutive IDs and remembers
// when each was requested.
class FakeCluster {
 public:
  explicit FakeCluster(SimulatedClock& clock) : clock_(clock) {}

  FetchFunction Function() {
    return [this](int64_t count, int64_t) -> absl::StatusOr<Fetched> {
      std::lock_guard<std::mutex> lock(mu_);
      ++fetches_;
      sizes_.push_back(count);
      if (!error_.ok()) return error_;
      if (count > limit_) {
        return absl::OutOfRangeError("count above the largest batch");
      }
      Fetched fetched;
      fetched.requested_at = clock_.NowMicros();
      for (int64_t i = 0; i < count; ++i) {
        requested_at_[next_] = fetched.requested_at;
        fetched.ids.push_back(next_++);
      }
      return fetched;
    };
  }
  int64_t RequestedAt(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return requested_at_.at(id);
  }
  void Fail(absl::Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(error);
  }
  void Limit(int64_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = limit;
  }
  int fetches() {
    std::lock_guard<std::mutex> lock(mu_);
    return fetches_;
  }
  std::vector<int64_t> sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }

 private:
  SimulatedClock& clock_;
  std::mutex mu_;
  uint64_t next_ = 1;
  std::map<uint64_t, int64_t> requested_at_;
  absl::Status error_;
  int64_t limit_ = 1 << 30;
  int fetches_ = 0;
  std::vector<int64_t> sizes_;
};

// Next() as the client runs it.
absl::StatusOr<uint64_t> Next(Prefetcher& prefetcher, SimulatedClock& clock) {
  uint64_t id = 0;
  if (prefetcher.TryTake(id)) return id;
  return prefetcher.Take(clock.NowMicros() + 10'000'000);
}

TEST(PrefetcherTest, FirstCallWaitsThenTheBufferServes) {
  SimulatedClock clock(1'000'000'000);
  TimeSource time(&clock);
  FakeCluster cluster(clock);
  Prefetcher prefetcher(Options(), time, cluster.Function());
  uint64_t id = 0;
  EXPECT_FALSE(prefetcher.TryTake(id));
  EXPECT_EQ(cluster.fetches(), 0);  // Idle: nothing fetched ahead.
  std::vector<uint64_t> ids;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<uint64_t> next = Next(prefetcher, clock);
    ASSERT_TRUE(next.ok()) << next.status();
    ids.push_back(*next);
  }
  std::vector<uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  EXPECT_EQ(ids, sorted);  // One refill thread: batches in order.
  EXPECT_GE(prefetcher.misses(), 1u);
  EXPECT_EQ(prefetcher.hits() + prefetcher.misses(), 200u);
  EXPECT_GT(prefetcher.hits(), prefetcher.misses());
  EXPECT_GE(prefetcher.refills(), 1u);
  for (int64_t size : cluster.sizes()) {
    EXPECT_GE(size, 8);
    EXPECT_LE(size, 64);
  }
}

TEST(PrefetcherTest, NeverHandsOutAnIdPastItsStaleness) {
  SimulatedClock clock(1'000'000'000);
  TimeSource time(&clock);
  FakeCluster cluster(clock);
  const PrefetcherOptions options = Options();
  Prefetcher prefetcher(options, time, cluster.Function());
  for (int i = 0; i < 3000; ++i) {
    absl::StatusOr<uint64_t> id = Next(prefetcher, clock);
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_LT(clock.NowMicros(),
              cluster.RequestedAt(*id) + options.max_staleness_micros)
        << "ID " << *id << " handed out stale";
    // Mostly quick takes; now and then a pause that outlasts the buffer.
    clock.AdvanceMicros(i % 50 == 0 ? 60'000 : 100);
  }
  EXPECT_GT(prefetcher.dropped_stale(), 0u);
}

TEST(PrefetcherTest, AFailedRefillReachesTheWaitingTaker) {
  SimulatedClock clock(1'000'000'000);
  TimeSource time(&clock);
  FakeCluster cluster(clock);
  cluster.Fail(absl::UnavailableError("all 3 nodes are unavailable"));
  Prefetcher prefetcher(Options(), time, cluster.Function());
  absl::StatusOr<uint64_t> id = Next(prefetcher, clock);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(id.status().message()),
              HasSubstr("all 3 nodes are unavailable"));
  cluster.Fail(absl::OkStatus());
  id = Next(prefetcher, clock);
  EXPECT_TRUE(id.ok()) << id.status();
}

TEST(PrefetcherTest, ADeadlineEndsTheWaitWhenNoRefillComes) {
  SimulatedClock clock(1'000'000'000);
  TimeSource time(&clock);
  std::atomic<bool> release{false};
  Prefetcher prefetcher(
      Options(), time,
      [&](int64_t, int64_t) -> absl::StatusOr<Fetched> {
        while (!release.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return absl::UnavailableError("late");
      },
      [] { return std::string("http://node-a:8080: connection refused"); });
  std::thread ticker([&] {
    while (!release.load()) {
      clock.AdvanceMicros(10'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  absl::StatusOr<uint64_t> id = prefetcher.Take(clock.NowMicros() + 200'000);
  release.store(true);
  ticker.join();
  EXPECT_EQ(id.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The refill is still trying: what the nodes said so far tells why.
  EXPECT_THAT(std::string(id.status().message()),
              HasSubstr("http://node-a:8080: connection refused"));
}

TEST(PrefetcherTest, ANodeLimitBelowTheBatchHalvesIt) {
  SimulatedClock clock(1'000'000'000);
  TimeSource time(&clock);
  FakeCluster cluster(clock);
  cluster.Limit(20);
  PrefetcherOptions options = Options();
  options.min_batch = 32;
  Prefetcher prefetcher(options, time, cluster.Function());
  absl::StatusOr<uint64_t> id = Next(prefetcher, clock);
  ASSERT_TRUE(id.ok()) << id.status();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Next(prefetcher, clock).ok());
  std::vector<int64_t> sizes = cluster.sizes();
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_GT(sizes.front(), 20);
  EXPECT_LE(sizes.back(), 20);
}

}  // namespace
}  // namespace snowflake::client::internal
