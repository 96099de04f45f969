#include "src/client/internal/id_buffer.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snowflake::client::internal {
namespace {

using ::testing::ElementsAre;

std::vector<uint64_t> Range(uint64_t first, size_t n) {
  std::vector<uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

// Queues `ids` expiring at `expires`.
void Add(IdBuffer& buffer, const std::vector<uint64_t>& ids, int64_t expires) {
  std::optional<int> slot = buffer.Reserve();
  ASSERT_TRUE(slot.has_value());
  buffer.Write(*slot, ids, expires);
  buffer.Publish(*slot);
}

// Everything the buffer hands out at `now`, advancing as Next() does.
std::vector<uint64_t> Drain(IdBuffer& buffer, int64_t now) {
  std::vector<uint64_t> ids;
  uint64_t id = 0;
  for (;;) {
    if (buffer.TryTake(now, id)) {
      ids.push_back(id);
    } else if (!buffer.Advance(now)) {
      return ids;
    }
  }
}

TEST(IdBufferTest, EmptyUntilABatchIsPublishedAndAdvancedTo) {
  IdBuffer buffer(3, 8);
  uint64_t id = 0;
  EXPECT_FALSE(buffer.TryTake(0, id));
  EXPECT_FALSE(buffer.Advance(0));
  std::optional<int> slot = buffer.Reserve();
  ASSERT_TRUE(slot.has_value());
  buffer.Write(*slot, Range(10, 3), 1000);
  EXPECT_FALSE(buffer.Advance(0));  // Written, not yet queued.
  buffer.Publish(*slot);
  EXPECT_EQ(buffer.Queued(0), 1);
  EXPECT_FALSE(buffer.TryTake(0, id));  // Not current yet.
  EXPECT_TRUE(buffer.Advance(0));
  EXPECT_EQ(buffer.Queued(0), 0);
  EXPECT_THAT(Drain(buffer, 0), ElementsAre(10, 11, 12));
  EXPECT_EQ(buffer.dropped_stale(), 0u);
}

TEST(IdBufferTest, BatchesAreHandedOutInOrderAndSlotsReused) {
  IdBuffer buffer(2, 4);
  std::vector<uint64_t> all;
  for (uint64_t round = 0; round < 10; ++round) {
    Add(buffer, Range(round * 4, 4), 1000);
    std::vector<uint64_t> got = Drain(buffer, 0);
    all.insert(all.end(), got.begin(), got.end());
  }
  EXPECT_EQ(all, Range(0, 40));
}

TEST(IdBufferTest, NoIdIsHandedOutAtOrAfterItsExpiry) {
  IdBuffer buffer(3, 8);
  Add(buffer, Range(1, 5), 100);
  ASSERT_TRUE(buffer.Advance(0));
  uint64_t id = 0;
  ASSERT_TRUE(buffer.TryTake(99, id));
  EXPECT_EQ(id, 1u);
  EXPECT_FALSE(buffer.TryTake(100, id));
  EXPECT_FALSE(buffer.TryTake(5000, id));
  // Advance closes it: the four left are dropped, and counted.
  EXPECT_FALSE(buffer.Advance(100));
  EXPECT_EQ(buffer.dropped_stale(), 4u);
  EXPECT_FALSE(buffer.TryTake(0, id));  // Closed, whatever the time says.
}

TEST(IdBufferTest, ACoarseTimeDecidesAloneOnlyOutsideTheGuard) {
  IdBuffer buffer(3, 8, /*guard=*/10);
  Add(buffer, Range(1, 8), 100);
  ASSERT_TRUE(buffer.Advance(0));
  int precise_reads = 0;
  auto precise = [&precise_reads](int64_t now) {
    return [&precise_reads, now] {
      ++precise_reads;
      return now;
    };
  };
  uint64_t id = 0;
  // Far from the expiry: the coarse time alone (were it 110 ms behind).
  EXPECT_TRUE(buffer.TryTake(89, precise(200), id));
  EXPECT_EQ(precise_reads, 0);
  // Within the guard, the precise time decides, whatever the coarse says.
  EXPECT_FALSE(buffer.TryTake(90, precise(100), id));
  EXPECT_FALSE(buffer.TryTake(95, precise(5000), id));
  EXPECT_TRUE(buffer.TryTake(99, precise(99), id));
  EXPECT_EQ(precise_reads, 3);
  EXPECT_EQ(id, 2u);
}

TEST(IdBufferTest, StaleQueuedBatchesAreSkippedAndCounted) {
  IdBuffer buffer(4, 8);
  Add(buffer, Range(100, 3), 50);   // Stale at 60.
  Add(buffer, Range(200, 2), 200);  // Fresh at 60.
  EXPECT_EQ(buffer.Queued(0), 2);
  EXPECT_EQ(buffer.Queued(60), 1);
  EXPECT_THAT(Drain(buffer, 60), ElementsAre(200, 201));
  EXPECT_EQ(buffer.dropped_stale(), 3u);

  Add(buffer, Range(300, 4), 70);
  Add(buffer, Range(400, 4), 80);
  Add(buffer, Range(500, 1), 1000);
  buffer.DropStale(75);  // The first of them only.
  EXPECT_EQ(buffer.dropped_stale(), 7u);
  EXPECT_EQ(buffer.Queued(75), 2);
  EXPECT_THAT(Drain(buffer, 79), ElementsAre(400, 401, 402, 403, 500));
}

TEST(IdBufferTest, AUsedUpBatchIsNotCountedAsDropped) {
  IdBuffer buffer(3, 8);
  Add(buffer, Range(1, 2), 100);
  EXPECT_THAT(Drain(buffer, 0), ElementsAre(1, 2));
  EXPECT_FALSE(buffer.Advance(500));  // Stale now, but nothing was left.
  EXPECT_EQ(buffer.dropped_stale(), 0u);
}

// Takers race a producer that refills a small ring as fast as it can, so
// slots are reused under takers that still hold them: every ID handed out
// was produced, and none twice.
TEST(IdBufferTest, ConcurrentTakersNeverGetAnIdTwice) {
  constexpr int kBatches = 20'000;
  constexpr size_t kBatch = 16;
  IdBuffer buffer(3, kBatch);
  std::atomic<bool> done{false};
  std::vector<std::vector<uint64_t>> taken(4);
  std::vector<std::thread> takers;
  takers.reserve(taken.size());
  for (auto& mine : taken) {
    takers.emplace_back([&buffer, &done, &mine] {
      uint64_t id = 0;
      while (!done.load()) {
        if (buffer.TryTake(0, id)) {
          mine.push_back(id);
        } else if (!buffer.Advance(0)) {
          std::this_thread::yield();  // Let the producer in.
        }
      }
    });
  }
  for (int b = 0; b < kBatches; ++b) {
    std::optional<int> slot;
    while (!(slot = buffer.Reserve())) buffer.Advance(0);
    buffer.Write(*slot, Range(uint64_t{1} + b * kBatch, kBatch), 1);
    buffer.Publish(*slot);
  }
  while (buffer.Queued(0) > 0) std::this_thread::yield();
  done.store(true);
  for (std::thread& t : takers) t.join();
  std::vector<uint64_t> all;
  for (const auto& mine : taken) {
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_TRUE(std::adjacent_find(all.begin(), all.end()) == all.end());
  ASSERT_FALSE(all.empty());
  EXPECT_GE(all.front(), 1u);
  EXPECT_LE(all.back(), uint64_t{kBatches} * kBatch);
  EXPECT_GT(all.size(), uint64_t{kBatches} * kBatch / 2);
}

}  // namespace
}  // namespace snowflake::client::internal
