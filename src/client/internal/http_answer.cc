#include "src/client/internal/http_answer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "snowflake/status.h"
#include "src/base/strings.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;

// The most of a body quoted in a message when it is not the node's JSON.
constexpr size_t kQuotedBodyBytes = 120;
// Retry-After beyond this is taken as this: a node is asked again within an
// hour whatever it said.
constexpr int64_t kMaxRetryAfterSeconds = 3600;

struct NodeError {
  std::string code;  // The node's error code; empty when not its JSON.
  std::string message;
};

NodeError ParseNodeError(const std::string& body) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object()) {
    const auto error = json.find("error");
    if (error != json.end() && error->is_object()) {
      auto text = [&](const char* key) {
        const auto it = error->find(key);
        return it != error->end() && it->is_string() ? it->get<std::string>()
                                                     : std::string();
      };
      NodeError parsed;
      parsed.code = text("code");
      parsed.message = base::OneLine(text("message"));
      if (!parsed.code.empty()) return parsed;
    }
  }
  return {"", base::OneLine(body.substr(0, kQuotedBodyBytes))};
}

std::optional<int64_t> RetryAfterMillis(std::string_view header) {
  int64_t seconds = 0;
  // An HTTP date is not parsed: the default back-off applies.
  if (!base::ParseInt(base::Trim(header), seconds) || seconds < 0) {
    return std::nullopt;
  }
  return std::min(seconds, kMaxRetryAfterSeconds) * 1000;
}

absl::StatusCode CodeOfStatus(int status, std::string_view node_code,
                              bool retry_after) {
  if (status == 503 || status == 502 || status == 504 ||
      (status >= 500 && retry_after)) {
    return absl::StatusCode::kUnavailable;
  }
  switch (status) {
    case 400:
    case 431:
      return absl::StatusCode::kInvalidArgument;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kUnimplemented;
    case 413:
      return absl::StatusCode::kOutOfRange;
    case 500:
      return node_code == "internal" || node_code.empty()
                 ? absl::StatusCode::kInternal
                 : absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

ErrorKind KindOfNodeCode(std::string_view code) {
  if (code == "clock_backwards") return ErrorKind::kClockBackwards;
  if (code == "clock_before_epoch") return ErrorKind::kClockBeforeEpoch;
  if (code == "time_range_exhausted") return ErrorKind::kTimeRangeExhausted;
  if (code == "high_water_mark") return ErrorKind::kHighWaterMark;
  if (code == "stopped") return ErrorKind::kStopped;
  return ErrorKind::kNone;
}

std::string IdsTarget(int64_t count) {
  return Cat("/v1/ids?count=", count, "&format=binary");
}

absl::Status ErrorOfAnswer(const HttpAnswer& answer, std::string_view node) {
  const NodeError error = ParseNodeError(answer.body);
  const std::optional<int64_t> retry_millis =
      answer.retry_after.empty() ? std::nullopt
                                 : RetryAfterMillis(answer.retry_after);
  const absl::StatusCode code =
      CodeOfStatus(answer.status, error.code, !answer.retry_after.empty());
  const std::string message = Cat(
      "node ", node, " answered ", answer.status, error.code.empty() ? "" : " ",
      error.code, error.message.empty() ? "" : ": ", error.message);
  const ErrorKind kind = KindOfNodeCode(error.code);
  if (kind == ErrorKind::kNone && !retry_millis.has_value()) {
    return absl::Status(code, base::AbslView(message));
  }
  return MakeError(
      code, kind, message, std::nullopt,
      code == absl::StatusCode::kUnavailable ? retry_millis : std::nullopt);
}

absl::StatusOr<std::vector<uint64_t>> IdsOfAnswer(const HttpAnswer& answer,
                                                  int64_t count,
                                                  std::string_view node) {
  if (answer.status != 200) return ErrorOfAnswer(answer, node);
  if (static_cast<int64_t>(answer.body.size()) != count * 8) {
    return absl::DataLossError(Cat("node ", node, " sent ", answer.body.size(),
                                   " bytes for ", count,
                                   " IDs of 8 bytes (content type \"",
                                   base::OneLine(answer.content_type), "\")"));
  }
  std::vector<uint64_t> ids(static_cast<size_t>(count));
  const unsigned char* bytes =
      reinterpret_cast<const unsigned char*>(answer.body.data());
  for (size_t i = 0; i < ids.size(); ++i) {
    uint64_t id = 0;
    for (size_t b = 0; b < 8; ++b) id = id << 8 | bytes[i * 8 + b];
    if (id >> 63 != 0) {
      return absl::DataLossError(
          Cat("node ", node, " sent ", id, ", not an ID (sign bit set)"));
    }
    ids[i] = id;
  }
  return ids;
}

}  // namespace snowflake::client::internal
