#include "src/lease/lease_clock.h"

#include <time.h>

#include <algorithm>
#include <chrono>

namespace snowflake {

int64_t BootClock::NowMicros() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void BootClock::WaitUntil(Mutex* mu, CondVar* cv, int64_t deadline_micros) {
  const int64_t left = deadline_micros - NowMicros();
  if (left <= 0) return;
  // The condition variable counts on CLOCK_MONOTONIC, which stands still
  // while the machine is suspended: after a resume this returns late, and
  // the caller, which reads the time again, sees how late.
  // At most an hour at a time (a spurious wake-up to the caller), so that
  // a far deadline cannot overflow the condition variable's arithmetic.
  constexpr int64_t kMaxWaitMicros = int64_t{3600} * 1'000'000;
  cv->WaitFor(mu, std::chrono::milliseconds(
                      (std::min(left, kMaxWaitMicros) + 999) / 1000));
}

LeaseClock& SystemLeaseClock() {
  static BootClock* const clock = new BootClock();
  return *clock;
}

}  // namespace snowflake
