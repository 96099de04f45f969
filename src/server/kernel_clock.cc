#include "src/server/kernel_clock.h"

#include <sys/timex.h>

namespace snowflake {

KernelClockState ReadKernelClock() {
  KernelClockState state;
  struct timex tx = {};
  tx.modes = 0;  // Read only.
  const int result = adjtimex(&tx);
  if (result == -1) return state;
  state.available = true;
  state.synchronized = result != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
  state.estimated_error_seconds = static_cast<double>(tx.esterror) / 1e6;
  state.max_error_seconds = static_cast<double>(tx.maxerror) / 1e6;
  const double offset_unit = (tx.status & STA_NANO) != 0 ? 1e9 : 1e6;
  state.offset_seconds = static_cast<double>(tx.offset) / offset_unit;
  return state;
}

}  // namespace snowflake
