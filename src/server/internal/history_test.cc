#include "src/server/internal/history.h"

#include <array>
#include <cstdint>

#include "gtest/gtest.h"

namespace snowflake::internal {
namespace {

constexpr std::array<int64_t, 3> kBounds = {10, 100, 1000};

HistoryTotals Totals(uint64_t ids, std::array<uint64_t, 4> buckets) {
  return {ids, {buckets.begin(), buckets.end()}};
}

TEST(BucketQuantileTest, InterpolatesWithinTheBucket) {
  const std::array<uint64_t, 4> counts = {0, 10, 0, 0};
  EXPECT_DOUBLE_EQ(BucketQuantile(kBounds, counts, 0.5), 55);
  EXPECT_DOUBLE_EQ(BucketQuantile(kBounds, counts, 1.0), 100);
}

TEST(BucketQuantileTest, FindsTheBucketOfTheRank) {
  const std::array<uint64_t, 4> counts = {98, 0, 1, 1};
  EXPECT_DOUBLE_EQ(BucketQuantile(kBounds, counts, 0.5), 10 * 50.0 / 98);
  EXPECT_DOUBLE_EQ(BucketQuantile(kBounds, counts, 0.99), 1000);
  // Beyond the last bound: the last bound, as nothing more is known.
  EXPECT_DOUBLE_EQ(BucketQuantile(kBounds, counts, 1.0), 1000);
}

TEST(BucketQuantileTest, NoRequestsIsMinusOne) {
  const std::array<uint64_t, 4> counts = {};
  EXPECT_EQ(BucketQuantile(kBounds, counts, 0.5), -1);
}

TEST(HistoryTest, FirstUpdateIsOnlyTheBaseline) {
  History history(kBounds);
  history.Update(10'000, Totals(5, {1, 0, 0, 0}));
  EXPECT_TRUE(history.Samples().empty());
  history.Update(10'999, Totals(50, {2, 0, 0, 0}));  // Not a second yet.
  EXPECT_TRUE(history.Samples().empty());
}

TEST(HistoryTest, OneSampleASecond) {
  History history(kBounds);
  history.Update(10'000, Totals(0, {0, 0, 0, 0}));
  history.Update(11'000, Totals(2000, {0, 4, 0, 0}));
  history.Update(12'000, Totals(2500, {0, 4, 2, 0}));
  const auto samples = history.Samples();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].unix_ms, 11'000);
  EXPECT_DOUBLE_EQ(samples[0].ids_per_second, 2000);
  EXPECT_DOUBLE_EQ(samples[0].requests_per_second, 4);
  EXPECT_DOUBLE_EQ(samples[0].p50_ms, 55 / 1e6);
  EXPECT_EQ(samples[1].unix_ms, 12'000);
  EXPECT_DOUBLE_EQ(samples[1].ids_per_second, 500);
  EXPECT_DOUBLE_EQ(samples[1].p99_ms, (100 + 900 * 0.99) / 1e6);
}

TEST(HistoryTest, SecondsNobodyReadShareTheirAverage) {
  History history(kBounds);
  history.Update(10'000, Totals(0, {0, 0, 0, 0}));
  history.Update(13'500, Totals(7000, {0, 0, 0, 0}));
  const auto samples = history.Samples();
  ASSERT_EQ(samples.size(), 3u);
  for (const HistorySample& s : samples) {
    EXPECT_DOUBLE_EQ(s.ids_per_second, 2000);
    EXPECT_EQ(s.p50_ms, -1);  // No requests.
  }
  EXPECT_EQ(samples.back().unix_ms, 13'500);
  EXPECT_EQ(samples.front().unix_ms, 11'500);
}

TEST(HistoryTest, KeepsTheLastFiveMinutes) {
  History history(kBounds);
  history.Update(0, Totals(0, {0, 0, 0, 0}));
  history.Update(int64_t{1000} * 1000, Totals(1000, {0, 0, 0, 0}));
  EXPECT_EQ(history.Samples().size(), static_cast<size_t>(History::kCapacity));
  history.Update(int64_t{1001} * 1000, Totals(1001, {0, 0, 0, 0}));
  const auto samples = history.Samples();
  ASSERT_EQ(samples.size(), static_cast<size_t>(History::kCapacity));
  EXPECT_EQ(samples.back().unix_ms, 1001 * 1000);
  EXPECT_EQ(samples.front().unix_ms, (1001 - 299) * 1000);
}

TEST(HistoryTest, AClockThatWentBackResetsTheBaseline) {
  History history(kBounds);
  history.Update(10'000, Totals(100, {0, 0, 0, 0}));
  history.Update(5'000, Totals(200, {0, 0, 0, 0}));
  history.Update(6'000, Totals(300, {0, 0, 0, 0}));
  const auto samples = history.Samples();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_DOUBLE_EQ(samples[0].ids_per_second, 100);
}

}  // namespace
}  // namespace snowflake::internal
