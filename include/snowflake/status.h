// Typed errors of the core library. Every fallible call returns absl::Status
// or absl::StatusOr<T>; the codes follow Abseil's retry guide (kUnavailable
// exactly when another try, later or on another node, can succeed), and a
// payload names the exact condition (with, for clock trouble, the drift and
// how long to wait) so callers such as the daemon can count, log and map it
// without parsing messages.
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
  // The generator has been stopped: the node is shutting down or lost its
  // worker lease (and acquires another). Code kUnavailable: retry later or on
  // another node.
  kStopped,
  // Generator::TryNextRun: the next ID needs the clock to advance (its
  // tick's sequence is used up, or the clock is behind within tolerance),
  // and the caller may not wait. Code kUnavailable; the retry delay is the
  // wait.
  kWouldWait,
};

// Returns a status with `code`, `message` and a payload naming `kind`;
// `drift_ms` (if given) is recorded for GetDriftMillis, `retry_delay_ms` (if
// given: the least wait before another try can succeed) for
// GetRetryDelayMillis.
absl::Status MakeError(absl::StatusCode code, ErrorKind kind,
                       std::string_view message,
                       std::optional<int64_t> drift_ms = std::nullopt,
                       std::optional<int64_t> retry_delay_ms = std::nullopt);

// The kind recorded by MakeError, or kNone for OK and foreign statuses.
ErrorKind GetErrorKind(const absl::Status& status);

// The clock drift (ms, >= 0) recorded by MakeError, if any. A measurement
// for logs and metrics, not a retry hint.
std::optional<int64_t> GetDriftMillis(const absl::Status& status);

// The retry delay (ms, >= 0) recorded by MakeError, if any: e.g. how far the
// clock must advance before a kClockBackwards error can clear.
std::optional<int64_t> GetRetryDelayMillis(const absl::Status& status);

// A stable lower-case name for `kind`, e.g. "clock_backwards" (for logs,
// metric labels and JSON error codes).
std::string_view ErrorKindName(ErrorKind kind);

}  // namespace snowflake

#endif  // SNOWFLAKE_STATUS_H_
