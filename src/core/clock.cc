#include "snowflake/clock.h"

#include <sched.h>
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

// How long before the end of a wait the sleeping thread wakes to spin.
constexpr int64_t kWakeEarlyMicros = 100;

int64_t ReadMicros(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Sleeps, then spins for the last kWakeEarlyMicros: a generator waiting for
// the next tick must not burn a core while it waits (docs/benchmarks.md,
// CPU per ID), nor wake after its tick began. The kernel wakes a sleeper
// late by its timer slack (lowered to 1 us here, once per thread) plus the
// wake-up itself, which under a hypervisor is often near 100 us (p50 96 us,
// p99 166 us measured on the project's 2-core VMs); so the thread sleeps to
// kWakeEarlyMicros before the end and yields through the rest.
void Sleep(int64_t micros) {
  if (micros <= 0) return;
  const int64_t until = ReadMicros(CLOCK_MONOTONIC) + micros;
  if (micros > kWakeEarlyMicros) {
    [[maybe_unused]] thread_local const bool slack_lowered =
        prctl(PR_SET_TIMERSLACK, kTimerSlackNanos, 0, 0, 0) == 0;
    const int64_t wake = until - kWakeEarlyMicros;
    timespec at;
    at.tv_sec = static_cast<time_t>(wake / 1000000);
    at.tv_nsec = static_cast<long>(wake % 1000000) * 1000;  // NOLINT
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) ==
           EINTR) {
    }
  }
  while (ReadMicros(CLOCK_MONOTONIC) < until) sched_yield();
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
