// How the node's errors travel over gRPC: an absl::Status's code as it is
// (STYLE.md: gRPC takes the codes as they are), its message, and details
// that name the error as the HTTP API's JSON does and, for what a retry can
// fix, say when to retry. Pure: no gRPC here, the server copies the fields
// into its grpc::Status and trailing metadata.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_RPC_ERROR_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_RPC_ERROR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace snowflake::internal {

// The trailing metadata of a retryable error: the retry delay, decimal
// milliseconds.
inline constexpr char kRetryAfterMetadata[] = "retry-after-ms";

// The domain of the details' ErrorInfo.
inline constexpr char kErrorDomain[] = "snowflake";

struct RpcError {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;  // Valid UTF-8.
  // A serialized v1::ErrorStatus (grpc-status-details-bin): the code, the
  // message, an ErrorInfo whose reason is the HTTP error table's code name
  // ("clock_backwards", "busy", "too_large", ...) and, when retryable, a
  // RetryInfo of retry_after_millis.
  std::string details;
  // > 0 exactly when another try (later, or on another node) can succeed:
  // the error table's row is retryable (every kUnavailable). The delay the
  // status records (GetRetryDelayMillis: the clock's drift to wait out, the
  // wait for the next tick), else the table's Retry-After; at least 1.
  int64_t retry_after_millis = 0;
};

// `status` (not OK) as a gRPC error. Its row of the HTTP error table
// (HttpErrorFor), except that kOutOfRange without a core ErrorKind is a
// batch above the limit (too_large), the only one the service makes.
RpcError ToRpcError(const absl::Status& status);

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_RPC_ERROR_H_
