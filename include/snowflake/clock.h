// Time sources. The core never reads the system clock itself: it takes a
// Clock&, so tests can drive a simulated clock through steps, rollbacks and
// pauses (see testing/simulated_clock.h).
#ifndef SNOWFLAKE_CLOCK_H_
#define SNOWFLAKE_CLOCK_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

namespace snowflake {

// A source of Unix time in microseconds. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Microseconds since the Unix epoch, as this source sees them. May move
  // backwards (the wall clock can be stepped); callers must cope.
  virtual int64_t NowMicros() = 0;

  // Blocks the calling thread for about `micros` (<= 0: returns at once).
  // Real clocks sleep, then spin for the last few dozen microseconds (the
  // wake-up delay each thread has seen, 100 us before it has slept), so a
  // generator waiting for the next tick neither burns a core nor oversleeps
  // the tick.
  virtual void SleepForMicros(int64_t micros) = 0;

  // Microseconds this source is ahead of the system wall clock (0 for the
  // wall clock itself), exported as a metric.
  virtual int64_t GapToWallMicros() { return 0; }
};

// CLOCK_REALTIME: follows every step and slew of the system clock.
class WallClock final : public Clock {
 public:
  int64_t NowMicros() override;
  void SleepForMicros(int64_t micros) override;
};

// Wall time read once at construction, then advanced by CLOCK_MONOTONIC, so a
// step of the system clock during the process's life never moves it back.
// It follows NTP's rate corrections but not its steps.
class MonotonicClock final : public Clock {
 public:
  MonotonicClock();
  int64_t NowMicros() override;
  void SleepForMicros(int64_t micros) override;
  int64_t GapToWallMicros() override;

 private:
  int64_t anchor_wall_micros_;
  int64_t anchor_mono_micros_;
};

// "wall" or "monotonic". Errors: kInvalidArgument naming both choices.
absl::StatusOr<std::unique_ptr<Clock>> MakeClock(std::string_view source);

// The system's wall clock, for callers that only need "now" (the CLI).
Clock& SystemClock();

}  // namespace snowflake

#endif  // SNOWFLAKE_CLOCK_H_
