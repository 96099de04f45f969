#include "src/client/internal/time_source.h"

namespace snowflake::client::internal {

TimeSource::TimeSource(Clock* clock) : clock_(clock) {
  if (clock_ != nullptr) return;
  timespec resolution{};
  // The coarse clock advances once per kernel tick: its resolution.
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) == 0) {
    coarse_resolution_ = static_cast<int64_t>(resolution.tv_sec) * 1'000'000 +
                         (resolution.tv_nsec + 999) / 1000;
  } else {
    coarse_resolution_ = 10'000;  // A tick at 100 Hz, the slowest.
  }
}

}  // namespace snowflake::client::internal
