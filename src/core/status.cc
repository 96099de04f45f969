#include "snowflake/status.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

// The payload is "<kind>;<drift_ms>;<retry_delay_ms>", each number empty
// when not given.
constexpr absl::string_view kPayloadUrl = "snowflake.dev/error";
using base::AbslView;

// Field `index` of the payload of `status` (0 kind, 1 drift, 2 retry delay),
// if the payload has it and it is a number.
std::optional<int64_t> PayloadField(const absl::Status& status, size_t index) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  std::string text(*payload);
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  int64_t value = 0;
  if (parts.size() <= index || !absl::SimpleAtoi(parts[index], &value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

absl::Status MakeError(absl::StatusCode code, ErrorKind kind,
                       std::string_view message,
                       std::optional<int64_t> drift_ms,
                       std::optional<int64_t> retry_delay_ms) {
  absl::Status status(code, AbslView(message));
  std::string payload = absl::StrCat(static_cast<int>(kind), ";");
  if (drift_ms.has_value()) absl::StrAppend(&payload, *drift_ms);
  absl::StrAppend(&payload, ";");
  if (retry_delay_ms.has_value()) absl::StrAppend(&payload, *retry_delay_ms);
  status.SetPayload(kPayloadUrl, absl::Cord(payload));
  return status;
}

ErrorKind GetErrorKind(const absl::Status& status) {
  return static_cast<ErrorKind>(PayloadField(status, 0).value_or(0));
}

std::optional<int64_t> GetDriftMillis(const absl::Status& status) {
  return PayloadField(status, 1);
}

std::optional<int64_t> GetRetryDelayMillis(const absl::Status& status) {
  return PayloadField(status, 2);
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "none";
    case ErrorKind::kClockBackwards:
      return "clock_backwards";
    case ErrorKind::kClockBeforeEpoch:
      return "clock_before_epoch";
    case ErrorKind::kTimeRangeExhausted:
      return "time_range_exhausted";
    case ErrorKind::kHighWaterMark:
      return "high_water_mark";
    case ErrorKind::kStopped:
      return "stopped";
    case ErrorKind::kWouldWait:
      return "would_wait";
  }
  return "unknown";
}

}  // namespace snowflake
