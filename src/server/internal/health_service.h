// grpc.health.v1.Health (gRPC's standard health checking protocol) over the
// node's readiness: SERVING exactly when /readyz answers 200, for the server
// as a whole ("") and for snowflake.v1.IdService, so that a gRPC load
// balancer takes the node out of rotation whenever it cannot issue IDs, and
// NOT_SERVING for good once the server shuts down.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_HEALTH_SERVICE_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_HEALTH_SERVICE_H_

#include <chrono>
#include <functional>
#include <string_view>

#include "grpc/health/v1/health.grpc.pb.h"
#include "src/base/mutex.h"
#include "src/server/limits.h"

namespace snowflake::internal {

// The service name clients check besides "" (the whole server).
inline constexpr char kIdServiceName[] = "snowflake.v1.IdService";

// Thread safety: every method may be called from any thread; gRPC runs each
// call on a thread of its own. `ready` must be callable from any thread
// until the server has stopped. Not copyable.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // `poll`: how often an open Watch re-reads `ready`.
  explicit HealthService(
      std::function<bool()> ready,
      std::chrono::milliseconds poll =
          std::chrono::milliseconds(limits::kHealthWatchPollMillis));
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // SERVING or NOT_SERVING for "" and kIdServiceName; NOT_FOUND (the
  // protocol's answer) for any other name.
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;

  // Sends the status at once (SERVICE_UNKNOWN for an unknown name) and then
  // each change, until the client cancels or the service shuts down: then
  // it sends NOT_SERVING and ends with UNAVAILABLE.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

  // NOT_SERVING from now on, for every name; open watches are told and
  // end. Idempotent.
  void Shutdown();

  // What Check and Watch answer for `service` now.
  ServingStatus StatusOf(std::string_view service) const;

 private:
  bool shut_down() const;

  const std::function<bool()> ready_;
  const std::chrono::milliseconds poll_;
  mutable Mutex mu_;
  CondVar changed_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_HEALTH_SERVICE_H_
