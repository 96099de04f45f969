// How the client takes IDs from one node, whatever the protocol: HTTP
// (http_transport.h) or gRPC (grpc_transport.h). The failover, back-off and
// prefetch logic above it (fetcher.h, prefetcher.h) never sees the protocol.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_TRANSPORT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "src/client/internal/endpoint.h"

namespace snowflake::client::internal {

// One node. Thread-safe: Fetch may run on many threads at once (each on its
// own connection).
class Transport {
 public:
  Transport() = default;
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // `count` (>= 1) IDs in one request, within `timeout`. Errors:
  // kUnavailable when another node, or this one later, may succeed (the
  // node answered 503 or UNAVAILABLE, or refused, dropped or did not answer
  // the request within `timeout`), with the node's Retry-After (or gRPC
  // retry-after-ms), if any, as the status's retry delay (snowflake/status.h
  // GetRetryDelayMillis); every other code is the node's answer that no
  // retry fixes (a 400: kInvalidArgument, a 413: kOutOfRange, a 500:
  // kFailedPrecondition or kInternal; over gRPC the same codes as sent).
  // Messages name the node.
  virtual absl::StatusOr<std::vector<uint64_t>> Fetch(
      int64_t count, std::chrono::milliseconds timeout) = 0;

  // Forgets idle connections: the node failed, they are likely dead.
  virtual void Reset() = 0;
};

// Makes the transport of a node; never null.
using TransportFactory =
    std::function<std::unique_ptr<Transport>(const Endpoint&)>;

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_TRANSPORT_H_
