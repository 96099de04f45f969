#include "snowflake/clock.h"

#include <time.h>

#include <cstdint>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace snowflake
