#include "snowflake/clock.h"

#include <time.h>

#include <cstdint>

#include "gtest/gtest.h"
#include "src/core/wake_delay.h"

namespace snowflake {
namespace {

int64_t Micros(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// A generator waits for the next tick in SleepForMicros, often for less
// than a millisecond and hundreds of times a second under load: the wait
// must not burn the core it runs on.
template <typename C>
void ExpectWaitsSleep() {
  C clock;
  // Waits of 1.5 ms: spinning through them (as this clock did for waits
  // under 2 ms) costs as much CPU as they last; a sleep, with its last
  // 100 us spun, at most a fifteenth.
  constexpr int kWaits = 100;
  constexpr int64_t kWaitMicros = 1500;
  const int64_t wall_start = Micros(CLOCK_MONOTONIC);
  const int64_t cpu_start = Micros(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < kWaits; ++i) clock.SleepForMicros(kWaitMicros);
  const int64_t cpu = Micros(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  const int64_t wall = Micros(CLOCK_MONOTONIC) - wall_start;
  EXPECT_GE(wall, kWaits * kWaitMicros);  // It waited at least as asked.
  EXPECT_LT(cpu, wall / 5) << "CPU " << cpu << " us over " << wall
                           << " us of waiting";
}

TEST(ClockTest, WallClockWaitsSleepNotSpin) { ExpectWaitsSleep<WallClock>(); }

TEST(ClockTest, MonotonicClockWaitsSleepNotSpin) {
  ExpectWaitsSleep<MonotonicClock>();
}

TEST(ClockTest, NonPositiveWaitsReturnAtOnce) {
  WallClock clock;
  const int64_t start = Micros(CLOCK_MONOTONIC);
  clock.SleepForMicros(0);
  clock.SleepForMicros(-5'000'000);
  EXPECT_LT(Micros(CLOCK_MONOTONIC) - start, 1'000'000);
}

// The delay a sleeper learns settles where a quarter of wakes are later,
// from either side, and stays within its bounds.
TEST(WakeDelayTest, SettlesAtTheSeventyFifthPercentile) {
  WakeDelay delay(100, 200);
  // Wakes 0..99 us late, evenly: the 75th percentile is 75.
  for (int i = 0; i < 4000; ++i) delay.Observe((i * 37) % 100);
  EXPECT_NEAR(delay.micros(), 75, 6);

  WakeDelay from_below(0, 200);
  for (int i = 0; i < 4000; ++i) from_below.Observe(30 + (i * 37) % 100);
  EXPECT_NEAR(from_below.micros(), 105, 6);

  WakeDelay steady(100, 200);
  for (int i = 0; i < 200; ++i) steady.Observe(31);
  EXPECT_NEAR(steady.micros(), 31, 3);
}

TEST(WakeDelayTest, StaysWithinItsBounds) {
  WakeDelay delay(500, 200);
  EXPECT_EQ(delay.micros(), 200);
  for (int i = 0; i < 100; ++i) delay.Observe(100000);
  EXPECT_EQ(delay.micros(), 200);
  for (int i = 0; i < 400; ++i) delay.Observe(0);
  EXPECT_EQ(delay.micros(), 0);
}

}  // namespace
}  // namespace snowflake
