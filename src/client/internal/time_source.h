// The client's time: microseconds on an injected Clock (tests), or on the
// system's monotonic clock. Next() reads the coarse variant first, which
// costs a few nanoseconds where a precise read costs tens (51 ns under
// kvm-clock); the coarse clock lags the precise one, usually by up to a
// kernel tick or two, but without a hard bound (a virtual CPU descheduled
// by its host resumes with it behind). So it is trusted only far from a
// deadline: within the guard of one, the precise clock decides.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_TIME_SOURCE_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_TIME_SOURCE_H_

#include <time.h>

#include <cstdint>

#include "snowflake/clock.h"

namespace snowflake::client::internal {

// Thread-safe (as the clock it reads).
class TimeSource {
 public:
  // `clock` null: CLOCK_MONOTONIC (precise) and CLOCK_MONOTONIC_COARSE.
  explicit TimeSource(Clock* clock);

  int64_t Now() const {
    return clock_ != nullptr ? clock_->NowMicros() : Read(CLOCK_MONOTONIC);
  }
  // Never ahead of Now(); behind it by about coarse_resolution(), rarely
  // (much) more. The injected clock's own time.
  int64_t CoarseNow() const {
    return clock_ != nullptr ? clock_->NowMicros()
                             : Read(CLOCK_MONOTONIC_COARSE);
  }
  // How often CoarseNow() advances; 0 with an injected clock.
  int64_t coarse_resolution() const { return coarse_resolution_; }

  // The injected clock; null for the system's.
  Clock* clock() const { return clock_; }

 private:
  static int64_t Read(clockid_t id) {
    timespec ts;
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  }

  Clock* const clock_;
  int64_t coarse_resolution_ = 0;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_TIME_SOURCE_H_
