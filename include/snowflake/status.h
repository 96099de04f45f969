// Typed errors of the core library. Every fallible call returns absl::Status
// or absl::StatusOr<T>; the codes follow Abseil's retry guide, and a payload
// names the exact condition (and, for clock trouble, the drift) so callers
// such as the daemon can count, log and map it without parsing messages.
#ifndef SNOWFLAKE_STATUS_H_
#define SNOWFLAKE_STATUS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace snowflake {

// The precise reason behind a non-OK status from the core.
enum class ErrorKind {
  kNone = 0,
  // The clock is behind the last issued tick by more than the tolerance.
  // Code kUnavailable; carries the drift. Retry after the drift has passed.
  kClockBackwards,
  // The clock is before the layout's epoch. Code kFailedPrecondition.
  kClockBeforeEpoch,
  // The time has run past what the layout's time bits can hold. Code
  // kFailedPrecondition; permanent for this layout.
  kTimeRangeExhausted,
  // The next tick would reach the high-water mark, which has not been
  // extended (yet). Code kUnavailable; retry shortly.
  kHighWaterMark,
  // The generator has been stopped (shutdown, lease lost). Code
  // kFailedPrecondition.
  kStopped,
};

// Returns a status with `code`, `message` and a payload naming `kind`;
// `drift_ms` (if given) is recorded for GetDriftMillis.
absl::Status MakeError(absl::StatusCode code, ErrorKind kind,
                       std::string_view message,
                       std::optional<int64_t> drift_ms = std::nullopt);

// The kind recorded by MakeError, or kNone for OK and foreign statuses.
ErrorKind GetErrorKind(const absl::Status& status);

// The clock drift (ms, >= 0) recorded by MakeError, if any.
std::optional<int64_t> GetDriftMillis(const absl::Status& status);

// A stable lower-case name for `kind`, e.g. "clock_backwards" (for logs,
// metric labels and JSON error codes).
std::string_view ErrorKindName(ErrorKind kind);

}  // namespace snowflake

#endif  // SNOWFLAKE_STATUS_H_
