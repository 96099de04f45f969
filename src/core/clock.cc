#include "snowflake/clock.h"

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/core/wake_delay.h"

namespace snowflake {
namespace {

// How late the kernel may wake a sleeper of this process: its timer slack,
// 50 us by default. A thread waiting for the next tick sets its own to this
// once, so that a sleep to the next millisecond ends within microseconds.
constexpr unsigned long kTimerSlackNanos = 1000;  // NOLINT(google-runtime-int)

// The wake-up delay assumed before a thread has slept (the usual delay
// under a hypervisor), and the most a wait spins whatever it learns.
constexpr int64_t kFirstWakeDelayMicros = 100;
constexpr int64_t kMostWakeDelayMicros = 200;

int64_t ReadMicros(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Sleeps, then spins the rest: a generator waiting for the next tick must
// not burn a core while it waits (docs/benchmarks.md, CPU per ID), nor wake
// after its tick began. The kernel wakes a sleeper late by its timer slack
// (lowered to 1 us here, once per thread) plus the wake-up itself, which
// depends on the machine: p50 31 us on one of the project's 2-core VMs,
// 96 us on another. So each thread learns its own delay (WakeDelay), sleeps
// to that much before the end and yields through the rest.
void Sleep(int64_t micros) {
  if (micros <= 0) return;
  const int64_t until = ReadMicros(CLOCK_MONOTONIC) + micros;
  thread_local WakeDelay delay(kFirstWakeDelayMicros, kMostWakeDelayMicros);
  if (micros > delay.micros()) {
    [[maybe_unused]] thread_local const bool slack_lowered =
        prctl(PR_SET_TIMERSLACK, kTimerSlackNanos, 0, 0, 0) == 0;
    const int64_t wake = until - delay.micros();
    timespec at;
    at.tv_sec = static_cast<time_t>(wake / 1000000);
    at.tv_nsec = static_cast<long>(wake % 1000000) * 1000;  // NOLINT
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) ==
           EINTR) {
    }
    delay.Observe(ReadMicros(CLOCK_MONOTONIC) - wake);
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
