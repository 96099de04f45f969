#include "src/client/internal/grpc_answer.h"

#include <algorithm>
#include <optional>

#include "google/protobuf/duration.pb.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.pb.h"
#include "src/base/strings.h"
#include "src/client/internal/http_answer.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;

// As HTTP's Retry-After (http_answer.cc): a node is asked again within an
// hour whatever it said.
constexpr int64_t kMaxRetryAfterMillis = int64_t{3600} * 1000;
// The node's ErrorInfo.domain (src/server/internal/rpc_error.h).
constexpr std::string_view kNodeDomain = "snowflake";

// What the node's details say; empty fields when absent or not its own.
struct NodeDetails {
  std::string reason;  // ErrorInfo.reason: the error table's code name.
  std::optional<int64_t> retry_millis;  // RetryInfo.retry_delay.
};

NodeDetails ParseDetails(const std::string& bytes) {
  NodeDetails out;
  v1::ErrorStatus details;
  if (bytes.empty() || !details.ParseFromString(bytes)) return out;
  for (const google::protobuf::Any& any : details.details()) {
    v1::ErrorInfo info;
    v1::RetryInfo retry;
    if (any.Is<v1::ErrorInfo>() && any.UnpackTo(&info) &&
        info.domain() == kNodeDomain) {
      out.reason = base::OneLine(info.reason());
    } else if (any.Is<v1::RetryInfo>() && any.UnpackTo(&retry)) {
      const google::protobuf::Duration& delay = retry.retry_delay();
      if (delay.seconds() >= 0 && delay.nanos() >= 0) {
        out.retry_millis =
            std::min(delay.seconds(), kMaxRetryAfterMillis / 1000) * 1000 +
            delay.nanos() / 1'000'000;
      }
    }
  }
  return out;
}

std::optional<int64_t> TrailerMillis(std::string_view text) {
  int64_t millis = 0;
  if (text.empty() || !base::ParseInt(base::Trim(text), millis) || millis < 0) {
    return std::nullopt;
  }
  return millis;
}

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kResourceExhausted ||
         code == absl::StatusCode::kCancelled;
}

}  // namespace

absl::Status ErrorOfGrpcAnswer(const GrpcAnswer& answer, std::string_view node,
                               std::chrono::milliseconds timeout) {
  const auto code = static_cast<absl::StatusCode>(answer.code);
  if (code == absl::StatusCode::kOk) {
    return absl::UnknownError(Cat("node ", node, " failed with status OK"));
  }
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError(
        Cat("node ", node, ": no answer within ", timeout.count(), " ms"));
  }
  const NodeDetails details = ParseDetails(answer.details);
  const std::string text = base::OneLine(answer.message);
  const std::string message =
      Cat("node ", node, " answered ", absl::StatusCodeToString(code),
          details.reason.empty() ? "" : " ", details.reason,
          text.empty() ? "" : ": ", text);
  const absl::StatusCode out =
      Retryable(code) ? absl::StatusCode::kUnavailable : code;
  std::optional<int64_t> retry_millis;
  if (out == absl::StatusCode::kUnavailable) {
    retry_millis = TrailerMillis(answer.retry_after_ms);
    if (!retry_millis.has_value()) retry_millis = details.retry_millis;
    if (retry_millis.has_value()) {
      retry_millis = std::min(*retry_millis, kMaxRetryAfterMillis);
    }
  }
  const ErrorKind kind = KindOfNodeCode(details.reason);
  if (kind == ErrorKind::kNone && !retry_millis.has_value()) {
    return absl::Status(out, base::AbslView(message));
  }
  return MakeError(out, kind, message, std::nullopt, retry_millis);
}

absl::StatusOr<std::vector<uint64_t>> IdsOfGrpcReply(
    std::span<const uint64_t> ids, int64_t count, std::string_view node) {
  if (static_cast<int64_t>(ids.size()) != count) {
    return absl::DataLossError(Cat("node ", node, " sent ", ids.size(),
                                   " IDs for a request of ", count));
  }
  for (uint64_t id : ids) {
    if (id >> 63 != 0) {
      return absl::DataLossError(
          Cat("node ", node, " sent ", id, ", not an ID (sign bit set)"));
    }
  }
  return std::vector<uint64_t>(ids.begin(), ids.end());
}

}  // namespace snowflake::client::internal
