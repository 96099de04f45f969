// The kernel's view of clock discipline (adjtimex): whether NTP or PTP has
// the clock synchronized, its estimated error and current offset.
#ifndef SNOWFLAKE_SRC_SERVER_KERNEL_CLOCK_H_
#define SNOWFLAKE_SRC_SERVER_KERNEL_CLOCK_H_

namespace snowflake {

struct KernelClockState {
  bool available = false;  // adjtimex answered.
  bool synchronized = false;
  double estimated_error_seconds = 0;
  double offset_seconds = 0;
  double max_error_seconds = 0;
};

// Reads the state without changing anything; needs no privileges.
// Thread-safe.
KernelClockState ReadKernelClock();

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_KERNEL_CLOCK_H_
