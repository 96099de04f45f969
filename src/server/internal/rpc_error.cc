#include "src/server/internal/rpc_error.h"

#include <algorithm>
#include <optional>

#include "google/protobuf/duration.pb.h"
#include "snowflake/status.h"
#include "snowflake/v1/id_service.pb.h"
#include "src/base/strings.h"
#include "src/server/http_handler.h"

namespace snowflake::internal {
RpcError ToRpcError(const absl::Status& status) {
  const HttpError error = status.code() == absl::StatusCode::kOutOfRange &&
                                  GetErrorKind(status) == ErrorKind::kNone
                              ? HttpError::kBatchTooLarge
                              : HttpErrorFor(status);
  const HttpErrorInfo& row = HttpErrorInfoFor(error);
  RpcError out;
  out.code = status.code();
  out.message = base::ToValidUtf8(base::StdView(status.message()));
  if (row.retryable) {
    const std::optional<int64_t> recorded = GetRetryDelayMillis(status);
    out.retry_after_millis =
        std::max<int64_t>(recorded.value_or(row.retry_after_seconds * 1000), 1);
  }

  v1::ErrorStatus details;
  details.set_code(static_cast<int32_t>(out.code));
  details.set_message(out.message);
  v1::ErrorInfo info;
  info.set_reason(std::string(row.code));
  info.set_domain(kErrorDomain);
  details.add_details()->PackFrom(info);
  if (out.retry_after_millis > 0) {
    v1::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(out.retry_after_millis / 1000);
    retry.mutable_retry_delay()->set_nanos(
        static_cast<int32_t>(out.retry_after_millis % 1000 * 1'000'000));
    details.add_details()->PackFrom(retry);
  }
  out.details = details.SerializeAsString();
  return out;
}

}  // namespace snowflake::internal
