#include "snowflake/clock.h"

#include <sys/prctl.h>
#include <time.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

// How late the kernel may wake a sleeper of this process: its timer slack,
// 50 us by default. A thread waiting for the next tick sets its own to this
// once, so that a sleep to the next millisecond ends within microseconds.
constexpr unsigned long kTimerSlackNanos = 1000;  // NOLINT(google-runtime-int)

int64_t ReadMicros(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Sleeps, never spins: a generator waiting for the next tick must not burn a
// core while it waits (docs/benchmarks.md, CPU per ID). The wake-up is
// absolute on the monotonic clock, so a signal or an early wake-up only
// sleeps again for what is left.
void Sleep(int64_t micros) {
  if (micros <= 0) return;
  [[maybe_unused]] thread_local const bool slack_lowered =
      prctl(PR_SET_TIMERSLACK, kTimerSlackNanos, 0, 0, 0) == 0;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t until_nanos = static_cast<int64_t>(now.tv_sec) * 1000000000 +
                              now.tv_nsec + micros * 1000;
  timespec until;
  until.tv_sec = static_cast<time_t>(until_nanos / 1000000000);
  until.tv_nsec = static_cast<long>(until_nanos % 1000000000);  // NOLINT
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) ==
         EINTR) {
  }
}

}  // namespace

int64_t WallClock::NowMicros() { return ReadMicros(CLOCK_REALTIME); }

void WallClock::SleepForMicros(int64_t micros) { Sleep(micros); }

MonotonicClock::MonotonicClock()
    : anchor_wall_micros_(ReadMicros(CLOCK_REALTIME)),
      anchor_mono_micros_(ReadMicros(CLOCK_MONOTONIC)) {}

int64_t MonotonicClock::NowMicros() {
  return anchor_wall_micros_ +
         (ReadMicros(CLOCK_MONOTONIC) - anchor_mono_micros_);
}

void MonotonicClock::SleepForMicros(int64_t micros) { Sleep(micros); }

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
