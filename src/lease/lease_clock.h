// The clock a worker lease measures its own time on: the fencing deadline,
// the takeover wait and the keep-alive schedule. Injected, as the core's
// Clock is, so that tests drive fencing with a fake one
// (testing/fake_lease_clock.h) instead of sleeping.
#ifndef SNOWFLAKE_SRC_LEASE_LEASE_CLOCK_H_
#define SNOWFLAKE_SRC_LEASE_LEASE_CLOCK_H_

#include <cstdint>

#include "src/base/mutex.h"

namespace snowflake {

// Monotonic microseconds, and timed waits measured on them. A lease never
// sleeps or reads a system clock itself: every timed wait goes through
// WaitUntil, so a fake clock can end it. Implementations are thread-safe.
// Not copyable.
class LeaseClock {
 public:
  LeaseClock() = default;
  virtual ~LeaseClock() = default;
  LeaseClock(const LeaseClock&) = delete;
  LeaseClock& operator=(const LeaseClock&) = delete;

  // Microseconds since an arbitrary origin; never goes back.
  virtual int64_t NowMicros() = 0;

  // Waits on `cv` until it is signalled or this clock reads
  // `deadline_micros` or later; returns at once if it already does. `mu` is
  // held on entry and on return, and released while waiting, as in
  // CondVar::WaitFor. May return early (a spurious wake-up): callers check
  // their condition and the time again, in a loop.
  virtual void WaitUntil(Mutex* mu, CondVar* cv, int64_t deadline_micros)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

// CLOCK_BOOTTIME. It keeps counting while the machine is suspended, as the
// coordinator's clock does; CLOCK_MONOTONIC would stop, and a resumed node
// would think its lease younger than it is.
class BootClock final : public LeaseClock {
 public:
  int64_t NowMicros() override;
  void WaitUntil(Mutex* mu, CondVar* cv, int64_t deadline_micros) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

// The process's BootClock, for leases given no other clock. Never
// destroyed.
LeaseClock& SystemLeaseClock();

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_LEASE_CLOCK_H_
