// The gRPC transport: snowflake.v1.IdService/NextIds on one plaintext
// channel per node (its calls multiplexed on one HTTP/2 connection), every
// call bounded by a deadline. gRPC stays out of this header.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_TRANSPORT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/client/internal/endpoint.h"
#include "src/client/internal/transport.h"

namespace snowflake::client::internal {

// Thread-safe: calls share the node's channel; Reset swaps in a new one
// while calls on the old one finish.
class GrpcTransport final : public Transport {
 public:
  // Dials nothing yet: the channel connects on the first Fetch.
  explicit GrpcTransport(Endpoint endpoint);
  ~GrpcTransport() override;

  // One NextIds call within `timeout` (grpc_answer.h maps its end). A call
  // the node answered but whose answer never arrived loses the IDs the
  // node issued for it: gaps, never repeats.
  absl::StatusOr<std::vector<uint64_t>> Fetch(
      int64_t count, std::chrono::milliseconds timeout) override;
  // Drops the channel: the next Fetch dials a new connection instead of
  // waiting out gRPC's reconnect back-off on one that failed.
  void Reset() override;

 private:
  struct Channel;

  std::shared_ptr<const Channel> CurrentChannel();

  const Endpoint endpoint_;
  const std::string url_;
  Mutex mu_;
  std::shared_ptr<const Channel> channel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_GRPC_TRANSPORT_H_
