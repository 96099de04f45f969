#include "snowflake/clock.h"

#include <time.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

// Waits shorter than this spin (yielding) instead of sleeping: a sleep's
// wake-up slack is about this long, and a generator waiting for the next
// millisecond must not oversleep it.
constexpr int64_t kSpinBelowMicros = 2000;

int64_t ReadMicros(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void SleepOrSpin(int64_t micros) {
  if (micros <= 0) return;
  if (micros >= kSpinBelowMicros) {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
    return;
  }
  const int64_t until = ReadMicros(CLOCK_MONOTONIC) + micros;
  while (ReadMicros(CLOCK_MONOTONIC) < until) std::this_thread::yield();
}

}  // namespace

int64_t WallClock::NowMicros() { return ReadMicros(CLOCK_REALTIME); }

void WallClock::SleepForMicros(int64_t micros) { SleepOrSpin(micros); }

MonotonicClock::MonotonicClock()
    : anchor_wall_micros_(ReadMicros(CLOCK_REALTIME)),
      anchor_mono_micros_(ReadMicros(CLOCK_MONOTONIC)) {}

int64_t MonotonicClock::NowMicros() {
  return anchor_wall_micros_ +
         (ReadMicros(CLOCK_MONOTONIC) - anchor_mono_micros_);
}

void MonotonicClock::SleepForMicros(int64_t micros) { SleepOrSpin(micros); }

int64_t MonotonicClock::GapToWallMicros() {
  return NowMicros() - ReadMicros(CLOCK_REALTIME);
}

absl::StatusOr<std::unique_ptr<Clock>> MakeClock(std::string_view source) {
  if (source == "wall") return std::make_unique<WallClock>();
  if (source == "monotonic") return std::make_unique<MonotonicClock>();
  return absl::InvalidArgumentError(
      absl::StrCat("clock source must be \"wall\" or \"monotonic\", got \"",
                   base::AbslView(source), "\""));
}

Clock& SystemClock() {
  static WallClock* clock = new WallClock();
  return *clock;
}

}  // namespace snowflake
