// The gRPC exchange of the client with a node, without a channel: what a
// NextIds call's end means (IDs, or which error, and whether another node
// may be asked), read from its status, its details (an ErrorStatus, as the
// node's src/server/internal/rpc_error.h makes them) and its `retry-after-ms`
// trailer, to the same codes and ErrorKind as the HTTP answers
// (http_answer.h).
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_ANSWER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_ANSWER_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::client::internal {

// The trailing metadata in which the node sends a retryable error's delay,
// decimal milliseconds (proto/snowflake/v1/id_service.proto).
inline constexpr char kRetryAfterTrailer[] = "retry-after-ms";

// How a call that failed ended, as far as it matters here.
struct GrpcAnswer {
  int code = 0;  // grpc::StatusCode, whose numbers are absl::StatusCode's.
  std::string message;
  std::string details;         // grpc-status-details-bin; empty when absent.
  std::string retry_after_ms;  // The trailer's value; empty when absent.
};

// The error a failed NextIds call to `node` (its URL, for messages) stands
// for, the call having had `timeout`. kUnavailable, another node may
// succeed: UNAVAILABLE (the node's 503 errors, or no connection),
// DEADLINE_EXCEEDED (no answer within `timeout`), RESOURCE_EXHAUSTED (gRPC's
// own limits: the node's call quota) and CANCELLED (a node shutting down
// cancels the calls it could not finish); the retry delay is the trailer's,
// else the details' RetryInfo, at most an hour. Every other code is
// returned as it is (the node sends the core's codes: INVALID_ARGUMENT,
// OUT_OF_RANGE for a batch above its limit, FAILED_PRECONDITION, ...).
// The node's error code (the details' ErrorInfo.reason) is kept in the
// message and, for the core's kinds, the status's ErrorKind.
absl::Status ErrorOfGrpcAnswer(const GrpcAnswer& answer, std::string_view node,
                               std::chrono::milliseconds timeout);

// The IDs of a successful NextIds call for `count`, or kDataLoss when there
// are not `count` of them or one has the sign bit set.
absl::StatusOr<std::vector<uint64_t>> IdsOfGrpcReply(
    std::span<const uint64_t> ids, int64_t count, std::string_view node);

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_ANSWER_H_
