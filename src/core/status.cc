#include "snowflake/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/core/internal/absl_compat.h"

namespace snowflake {
namespace {

// The payload is "<kind>" or "<kind>;<drift_ms>".
constexpr absl::string_view kPayloadUrl = "snowflake.dev/error";
using internal::AbslView;

}  // namespace

absl::Status MakeError(absl::StatusCode code, ErrorKind kind,
                       std::string_view message,
                       std::optional<int64_t> drift_ms) {
  absl::Status status(code, AbslView(message));
  std::string payload = absl::StrCat(static_cast<int>(kind));
  if (drift_ms.has_value()) absl::StrAppend(&payload, ";", *drift_ms);
  status.SetPayload(kPayloadUrl, absl::Cord(payload));
  return status;
}

ErrorKind GetErrorKind(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return ErrorKind::kNone;
  std::string text(*payload);
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  int kind = 0;
  if (parts.empty() || !absl::SimpleAtoi(parts[0], &kind)) {
    return ErrorKind::kNone;
  }
  return static_cast<ErrorKind>(kind);
}

std::optional<int64_t> GetDriftMillis(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  std::string text(*payload);
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  int64_t drift = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &drift)) {
    return std::nullopt;
  }
  return drift;
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
  }
  return "unknown";
}

}  // namespace snowflake
