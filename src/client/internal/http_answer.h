// The HTTP exchange of the client with a node, without sockets: the request
// target for a batch, and what an answer means (IDs, or which error, and
// whether another node may be asked), per the node's error table
// (src/server/http_handler.h: 400, 413, 503 with Retry-After, 500 without).
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_ANSWER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_ANSWER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/status.h"

namespace snowflake::client::internal {

// The core's ErrorKind that a code of the node's error table names (the
// HTTP JSON's error.code, the gRPC details' ErrorInfo.reason:
// "clock_backwards", ...); kNone for the others.
ErrorKind KindOfNodeCode(std::string_view code);

// "/v1/ids?count=N&format=binary": N big-endian u64s.
std::string IdsTarget(int64_t count);

// What came back, as far as it matters here.
struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string retry_after;  // The header's value; empty when absent.
  std::string body;
};

// The `count` IDs of an answer to IdsTarget(count) from `node` (its URL, for
// messages), or the error it stands for: 503, and any 5xx with
// Retry-After, and 502 and 504 (a proxy's: the node behind it may be
// down): kUnavailable, retry delay from Retry-After (seconds) if any; 400
// and 431: kInvalidArgument; 413: kOutOfRange; 404: kNotFound; 405:
// kUnimplemented; 500: kInternal for the node's "internal", else
// kFailedPrecondition; anything else kUnknown. A 200 whose body is not
// `count` IDs of 8 bytes (or holds one with the sign bit set): kDataLoss.
// The node's error code and message (its JSON {"error":{...}}) are kept in
// the status's message and, for the core's kinds, its ErrorKind.
absl::Status ErrorOfAnswer(const HttpAnswer& answer, std::string_view node);
absl::StatusOr<std::vector<uint64_t>> IdsOfAnswer(const HttpAnswer& answer,
                                                  int64_t count,
                                                  std::string_view node);

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_HTTP_ANSWER_H_
