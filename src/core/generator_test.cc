#include "snowflake/generator.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "testing/simulated_clock.h"

namespace snowflake {
namespace {

using ::snowflake::testing::SimulatedClock;
using ::testing::HasSubstr;

constexpr int64_t kEpoch = 1'000'000;  // Unix ms of tick 0 in these tests.

// Micros at which tick `tick` (+ `offset_us`) of a 1 ms layout begins.
int64_t At(int64_t tick, int64_t offset_us = 0) {
  return (kEpoch + tick) * 1000 + offset_us;
}

Layout MakeLayout(int time_bits, int worker_bits, int sequence_bits,
                  int64_t unit = 1) {
  absl::StatusOr<Layout> layout =
      Layout::Create({time_bits, worker_bits, sequence_bits, unit, kEpoch});
  EXPECT_TRUE(layout.ok()) << layout.status();
  return *layout;
}

std::unique_ptr<Generator> MakeGenerator(Clock& clock,
                                         GeneratorOptions options) {
  absl::StatusOr<std::unique_ptr<Generator>> gen =
      Generator::Create(options, clock);
  EXPECT_TRUE(gen.ok()) << gen.status();
  return std::move(*gen);
}

GeneratorOptions Options(Layout layout, int64_t worker = 5) {
  GeneratorOptions options;
  options.layout = layout;
  options.worker_id = worker;
  return options;
}

IdParts Parts(const Generator& gen, uint64_t id) {
  absl::StatusOr<IdParts> parts = gen.layout().Decompose(id);
  EXPECT_TRUE(parts.ok());
  return *parts;
}

TEST(GeneratorTest, SameTickIncrementsSequence) {
  SimulatedClock clock(At(100, 300));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  for (int64_t seq = 0; seq < 10; ++seq) {
    absl::StatusOr<uint64_t> id = gen->Next();
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(Parts(*gen, *id), (IdParts{100, 5, seq}));
  }
  EXPECT_EQ(clock.sleeps(), 0);
}

TEST(GeneratorTest, NewTickRestartsSequenceAtZero) {
  SimulatedClock clock(At(100));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  ASSERT_TRUE(gen->Next().ok());
  ASSERT_TRUE(gen->Next().ok());
  clock.SetMicros(At(103));
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id), (IdParts{103, 5, 0}));
}

TEST(GeneratorTest, ExhaustedSequenceWaitsForNextTick) {
  SimulatedClock clock(At(100, 250));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 2)));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(gen->Next().ok());
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id), (IdParts{101, 5, 0}));
  EXPECT_EQ(gen->stats().exhausted_waits, 1u);
  EXPECT_EQ(gen->stats().backwards_events, 0u);
  // It slept exactly until tick 101 began.
  EXPECT_EQ(clock.total_slept_micros(), 750);
  EXPECT_EQ(clock.NowMicros(), At(101));
}

TEST(GeneratorTest, TryNextRunNeverWaitsAndSaysHowLong) {
  SimulatedClock clock(At(100, 250));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 2)));
  absl::StatusOr<IdRun> run = gen->TryNextRun(10);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->count, 4u);  // The whole tick, no more.
  absl::StatusOr<IdRun> next = gen->TryNextRun(1);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(next.status()), ErrorKind::kWouldWait);
  EXPECT_EQ(GetRetryDelayMillis(next.status()), 1);  // 750 us, rounded up.
  EXPECT_EQ(clock.total_slept_micros(), 0) << "it must not sleep";
  // Nothing was taken: the next tick starts at sequence 0.
  clock.SetMicros(At(101));
  run = gen->TryNextRun(1);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(Parts(*gen, run->first), (IdParts{101, 5, 0}));

  // The clock behind within tolerance: also a wait, so also refused.
  clock.SetMicros(At(98));
  next = gen->TryNextRun(1);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(GetErrorKind(next.status()), ErrorKind::kWouldWait);
  EXPECT_EQ(clock.total_slept_micros(), 0);
  EXPECT_TRUE(gen->NextRun(1).ok()) << "NextRun waits instead";
}

// TryNextRun(max, min): fewer than min left in the tick is a wait, and
// nothing is taken; the rest of the tick stays for the next caller.
TEST(GeneratorTest, TryNextRunWithAMinimumTakesAllOrNothing) {
  SimulatedClock clock(At(100, 250));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 3)));
  absl::StatusOr<IdRun> run = gen->TryNextRun(5, 5);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->count, 5u);
  absl::StatusOr<IdRun> next = gen->TryNextRun(4, 4);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(GetErrorKind(next.status()), ErrorKind::kWouldWait);
  EXPECT_EQ(GetRetryDelayMillis(next.status()), 1);  // 750 us, rounded up.
  EXPECT_EQ(gen->stats().exhausted_waits, 1u);
  // A minimum above the maximum is the maximum.
  next = gen->TryNextRun(3, 9);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->count, 3u);
  EXPECT_EQ(Parts(*gen, next->first), (IdParts{100, 5, 5}));
  EXPECT_EQ(clock.total_slept_micros(), 0) << "it must not sleep";
  // Next tick: the whole of it fits.
  clock.SetMicros(At(101));
  run = gen->TryNextRun(8, 8);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(Parts(*gen, run->first), (IdParts{101, 5, 0}));
}

TEST(GeneratorTest, BackwardsWithinToleranceWaitsThenContinues) {
  SimulatedClock clock(At(100));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  absl::StatusOr<uint64_t> before = gen->Next();
  ASSERT_TRUE(before.ok());
  clock.SetMicros(At(97));  // 3 ms back; tolerance is 5 ms.
  absl::StatusOr<uint64_t> after = gen->Next();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(*after, *before);
  EXPECT_EQ(Parts(*gen, *after), (IdParts{100, 5, 1}));
  EXPECT_GE(clock.NowMicros(), At(100));
  EXPECT_EQ(gen->stats().backwards_events, 1u);
  EXPECT_EQ(gen->stats().backwards_errors, 0u);
  EXPECT_EQ(gen->stats().max_drift_millis, 3);
}

TEST(GeneratorTest, BackwardsBeyondToleranceFailsWithDriftAndIssuesNothing) {
  SimulatedClock clock(At(100));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  absl::StatusOr<uint64_t> before = gen->Next();
  ASSERT_TRUE(before.ok());
  clock.SetMicros(At(90));
  absl::StatusOr<uint64_t> failed = gen->Next();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(failed.status()), ErrorKind::kClockBackwards);
  ASSERT_TRUE(GetDriftMillis(failed.status()).has_value());
  EXPECT_EQ(*GetDriftMillis(failed.status()), 10);
  EXPECT_THAT(failed.status().message(), HasSubstr("10 ms behind"));
  EXPECT_EQ(clock.sleeps(), 0);  // It did not wait.
  EXPECT_EQ(gen->stats().backwards_errors, 1u);
  EXPECT_EQ(gen->stats().max_drift_millis, 10);
  // Once the clock is back, issuing continues right after the last ID.
  clock.SetMicros(At(100));
  absl::StatusOr<uint64_t> next = gen->Next();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, *before + 1);
}

TEST(GeneratorTest, ClockBehindSaysWhatNextWouldRefuse) {
  SimulatedClock clock(At(100));
  GeneratorOptions options = Options(MakeLayout(41, 10, 2));
  options.max_borrow_millis = 2;
  auto gen = MakeGenerator(clock, options);
  EXPECT_EQ(gen->tolerance_micros(), 5000);
  ASSERT_TRUE(gen->Next().ok());  // Tick 100.
  EXPECT_EQ(gen->ClockBehindMicros(), 0);
  for (int i = 0; i < 11; ++i) ASSERT_TRUE(gen->Next().ok());  // Up to 102.
  EXPECT_EQ(gen->ClockBehindMicros(), 0);  // Borrowed: not behind.
  clock.SetMicros(At(92, 500));  // Tick 102 - 2 borrowed = 100: 7.5 ms.
  EXPECT_EQ(gen->ClockBehindMicros(), 7500);
  EXPECT_EQ(GetErrorKind(gen->Next().status()), ErrorKind::kClockBackwards);
  clock.SetMicros(At(95));  // 5 ms: within tolerance, Next would wait.
  EXPECT_EQ(gen->ClockBehindMicros(), 5000);
}

TEST(GeneratorTest, BorrowRunsAheadOfTheClockUpToTheLimit) {
  SimulatedClock clock(At(100));
  GeneratorOptions options = Options(MakeLayout(41, 10, 2));
  options.max_borrow_millis = 2;
  auto gen = MakeGenerator(clock, options);
  std::vector<IdParts> got;
  for (int i = 0; i < 12; ++i) {
    absl::StatusOr<uint64_t> id = gen->Next();
    ASSERT_TRUE(id.ok());
    got.push_back(Parts(*gen, *id));
  }
  EXPECT_EQ(clock.sleeps(), 0);  // Ticks 100, 101, 102 without waiting.
  EXPECT_EQ(got.back(), (IdParts{102, 5, 3}));
  absl::StatusOr<uint64_t> id =
      gen->Next();  // Tick 103 needs the clock at 101.
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id), (IdParts{103, 5, 0}));
  EXPECT_EQ(clock.NowMicros(), At(101));
  EXPECT_EQ(gen->stats().exhausted_waits, 1u);
}

TEST(GeneratorTest, EndOfTimeRangeIsATypedError) {
  SimulatedClock clock(At(1023));
  auto gen = MakeGenerator(clock, Options(MakeLayout(10, 10, 2)));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(gen->Next().ok());
  absl::StatusOr<uint64_t> past = gen->Next();  // Tick 1024 does not exist.
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorKind(past.status()), ErrorKind::kTimeRangeExhausted);
  clock.SetMicros(At(5000));
  EXPECT_EQ(GetErrorKind(gen->Next().status()), ErrorKind::kTimeRangeExhausted);
}

TEST(GeneratorTest, ClockBeforeEpochIsATypedError) {
  SimulatedClock clock(At(-10));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(GetErrorKind(id.status()), ErrorKind::kClockBeforeEpoch);
}

TEST(GeneratorTest, NeverIssuesAtOrAboveTheHighWaterMark) {
  SimulatedClock clock(At(104));
  GeneratorOptions options = Options(MakeLayout(41, 10, 12));
  options.high_water_mark = 105;
  auto gen = MakeGenerator(clock, options);
  ASSERT_TRUE(gen->Next().ok());
  clock.SetMicros(At(105));
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(id.status()), ErrorKind::kHighWaterMark);
  EXPECT_EQ(gen->stats().high_water_mark_hits, 1u);
  gen->SetHighWaterMark(104);  // Lowering is ignored.
  EXPECT_EQ(gen->high_water_mark(), 105);
  gen->SetHighWaterMark(200);
  id = gen->Next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id).tick, 105);
}

TEST(GeneratorTest, FirstTickIsNeverUndercut) {
  SimulatedClock clock(At(100));
  GeneratorOptions options = Options(MakeLayout(41, 10, 12));
  options.first_tick = 100;
  auto gen = MakeGenerator(clock, options);
  EXPECT_EQ(gen->NextFreeTick(), 100);
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id).tick, 100);
  EXPECT_EQ(gen->NextFreeTick(), 101);
}

TEST(GeneratorTest, StopReturnsTheMarkAndRefusesLaterCalls) {
  SimulatedClock clock(At(100));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  ASSERT_TRUE(gen->Next().ok());
  EXPECT_EQ(gen->Stop(), 101);
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(GetErrorKind(id.status()), ErrorKind::kStopped);
  EXPECT_EQ(GetErrorKind(gen->NextRun(10).status()), ErrorKind::kStopped);
  EXPECT_EQ(gen->Stop(), 101);
}

TEST(GeneratorTest, RandomSequenceStartStaysInRangeAndVaries) {
  SimulatedClock clock(At(100));
  GeneratorOptions options = Options(MakeLayout(41, 10, 12));
  options.sequence_start_max = 100;
  auto gen = MakeGenerator(clock, options);
  std::set<int64_t> starts;
  for (int tick = 0; tick < 200; ++tick) {
    clock.SetMicros(At(100 + tick));
    absl::StatusOr<uint64_t> first = gen->Next();
    absl::StatusOr<uint64_t> second = gen->Next();
    ASSERT_TRUE(first.ok() && second.ok());
    const IdParts parts = Parts(*gen, *first);
    EXPECT_LE(parts.sequence, 100);
    EXPECT_EQ(*second, *first + 1);
    starts.insert(parts.sequence);
  }
  EXPECT_GT(starts.size(), 20u);
}

TEST(GeneratorTest, RejectsBadOptions) {
  SimulatedClock clock(At(0));
  GeneratorOptions options = Options(MakeLayout(41, 10, 12), 1024);
  EXPECT_THAT(Generator::Create(options, clock).status().message(),
              HasSubstr("worker ID must be 0 to 1023"));
  options.worker_id = 0;
  options.tolerance_millis = -1;
  EXPECT_FALSE(Generator::Create(options, clock).ok());
  options.tolerance_millis = 5;
  options.max_borrow_millis = -1;
  EXPECT_FALSE(Generator::Create(options, clock).ok());
  options.max_borrow_millis = 0;
  options.sequence_start_max = 4096;
  EXPECT_FALSE(Generator::Create(options, clock).ok());
}

TEST(GeneratorBatchTest, RunsAreContiguousAndStayInOneTick) {
  SimulatedClock clock(At(100, 10));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  ASSERT_TRUE(gen->Next().ok());
  absl::StatusOr<IdRun> run = gen->NextRun(10000);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->count, 4095u);  // The rest of tick 100.
  EXPECT_EQ(Parts(*gen, run->first), (IdParts{100, 5, 1}));
  EXPECT_EQ(Parts(*gen, run->first + run->count - 1), (IdParts{100, 5, 4095}));
}

TEST(GeneratorBatchTest, BatchIsUniqueIncreasingAndSpansTicks) {
  SimulatedClock clock(At(100));
  auto gen = MakeGenerator(clock, Options(MakeLayout(41, 10, 12)));
  std::vector<uint64_t> ids(10000);
  ASSERT_TRUE(gen->NextBatch(ids).ok());
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]);
  EXPECT_EQ(Parts(*gen, ids.front()), (IdParts{100, 5, 0}));
  EXPECT_EQ(Parts(*gen, ids.back()), (IdParts{102, 5, 10000 - 8192 - 1}));
  std::vector<uint64_t> more(5000);
  ASSERT_TRUE(gen->NextBatch(more).ok());
  EXPECT_LT(ids.back(), more.front());
}

TEST(GeneratorBatchTest, BatchNeverCrossesTheHighWaterMark) {
  SimulatedClock clock(At(100));
  GeneratorOptions options = Options(MakeLayout(41, 10, 12));
  options.high_water_mark = 102;
  auto gen = MakeGenerator(clock, options);
  std::vector<uint64_t> ids(size_t{3} * 4096);
  absl::Status status = gen->NextBatch(ids);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kHighWaterMark);
  EXPECT_EQ(gen->NextFreeTick(), 102);  // Ticks 100 and 101 used, no more.
  gen->SetHighWaterMark(1000);
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Parts(*gen, *id).tick, 102);
}

TEST(GeneratorThreadTest, FourThreadsGetDistinctIncreasingIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1'000'000;
  WallClock clock;
  GeneratorOptions options;
  options.worker_id = 7;
  auto gen = MakeGenerator(clock, options);
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint64_t>& mine = got[t];
      mine.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<uint64_t> id = gen->Next();
        if (!id.ok()) {
          ADD_FAILURE() << id.status();
          return;
        }
        mine.push_back(*id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<uint64_t> all;
  for (const std::vector<uint64_t>& mine : got) {
    ASSERT_EQ(mine.size(), static_cast<size_t>(kPerThread));
    for (size_t i = 1; i < mine.size(); ++i) ASSERT_LT(mine[i - 1], mine[i]);
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  EXPECT_EQ(Parts(*gen, all.front()).worker, 7);
}

}  // namespace
}  // namespace snowflake
