#include "src/lease/lease_clock.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "src/base/mutex.h"
#include "testing/fake_lease_clock.h"

namespace snowflake {
namespace {

using ::snowflake::testing::FakeLeaseClock;

// What a lease does: wait on `clock` until `deadline` or `stop`.
struct Sleeper {
  Mutex mu;
  CondVar cv;
  bool stop ABSL_GUARDED_BY(mu) = false;

  // The clock's time when the wait ended; -1 if stopped first.
  int64_t SleepUntil(LeaseClock& clock, int64_t deadline) {
    MutexLock lock(&mu);
    for (;;) {
      if (stop) return -1;
      const int64_t now = clock.NowMicros();
      if (now >= deadline) return now;
      clock.WaitUntil(&mu, &cv, deadline);
    }
  }
  void Stop() {
    MutexLock lock(&mu);
    stop = true;
    cv.SignalAll();
  }
};

TEST(BootClockTest, NeverGoesBackAndWaitsUntilTheDeadline) {
  LeaseClock& clock = SystemLeaseClock();
  const int64_t start = clock.NowMicros();
  EXPECT_GE(clock.NowMicros(), start);
  Sleeper sleeper;
  const int64_t woke = sleeper.SleepUntil(clock, start + 20'000);
  EXPECT_GE(woke, start + 20'000);
  EXPECT_LT(woke, start + 5'000'000);
}

TEST(BootClockTest, WaitEndsWhenSignalled) {
  LeaseClock& clock = SystemLeaseClock();
  Sleeper sleeper;
  std::atomic<int64_t> woke{0};
  std::thread waiter([&] {
    woke = sleeper.SleepUntil(clock, clock.NowMicros() + 3'600'000'000);
  });
  sleeper.Stop();
  waiter.join();
  EXPECT_EQ(woke.load(), -1);
}

TEST(FakeLeaseClockTest, TimeMovesOnlyWhenAdvanced) {
  FakeLeaseClock clock(5'000);
  EXPECT_EQ(clock.NowMicros(), 5'000);
  clock.AdvanceMicros(7);
  EXPECT_EQ(clock.NowMicros(), 5'007);
  clock.AdvanceMillis(2);
  EXPECT_EQ(clock.NowMicros(), 7'007);
  clock.AdvanceMicros(-100);  // Never back.
  EXPECT_EQ(clock.NowMicros(), 7'007);
}

TEST(FakeLeaseClockTest, WaitEndsExactlyAtItsDeadlineAndNotBefore) {
  FakeLeaseClock clock(1'000'000);
  Sleeper sleeper;
  std::atomic<int64_t> woke{0};
  std::thread waiter(
      [&] { woke = sleeper.SleepUntil(clock, 1'000'000 + 1'000); });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.AdvanceMicros(999);
  // It woke, saw 1 us to go and waits again: that is all an advance does.
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(woke.load(), 0);
  clock.AdvanceMicros(1);
  waiter.join();
  EXPECT_EQ(woke.load(), 1'001'000);
}

TEST(FakeLeaseClockTest, WaitEndsWhenSignalledWithoutAnAdvance) {
  FakeLeaseClock clock;
  Sleeper sleeper;
  std::atomic<int64_t> woke{0};
  std::thread waiter(
      [&] { woke = sleeper.SleepUntil(clock, clock.NowMicros() + 1'000); });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  sleeper.Stop();
  waiter.join();
  EXPECT_EQ(woke.load(), -1);
}

TEST(FakeLeaseClockTest, ADeadlineAlreadyPassedDoesNotWait) {
  FakeLeaseClock clock(100);
  Sleeper sleeper;
  EXPECT_EQ(sleeper.SleepUntil(clock, 100), 100);
  EXPECT_EQ(sleeper.SleepUntil(clock, 50), 100);
  EXPECT_FALSE(clock.AwaitWaiters(1, std::chrono::milliseconds(0)));
}

TEST(FakeLeaseClockTest, ManyWaitersAndAdvancesFromManyThreads) {
  // For ThreadSanitizer: waiters come and go while advances signal them.
  FakeLeaseClock clock(0);
  constexpr int kWaiters = 4;
  constexpr int64_t kEnd = 2'000;
  Sleeper sleepers[kWaiters];
  std::atomic<int> done{0};
  std::vector<std::thread> waiters;
  waiters.reserve(kWaiters);
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      const int64_t step = int64_t{10} * (i + 1);
      for (int64_t t = step; t <= kEnd; t += step) {
        sleepers[i].SleepUntil(clock, t);
      }
      done.fetch_add(1);
    });
  }
  while (done.load() < kWaiters) clock.AdvanceMicros(3);
  for (std::thread& t : waiters) t.join();
  EXPECT_GE(clock.NowMicros(), kEnd);
}

}  // namespace
}  // namespace snowflake
