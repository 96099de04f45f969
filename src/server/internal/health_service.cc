#include "src/server/internal/health_service.h"

#include <utility>

namespace snowflake::internal {

using grpc::health::v1::HealthCheckResponse;

HealthService::HealthService(std::function<bool()> ready,
                             std::chrono::milliseconds poll)
    : ready_(std::move(ready)), poll_(poll) {}

bool HealthService::shut_down() const {
  MutexLock lock(&mu_);
  return shut_down_;
}

HealthService::ServingStatus HealthService::StatusOf(
    std::string_view service) const {
  if (!service.empty() && service != kIdServiceName) {
    return HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return !shut_down() && ready_() ? HealthCheckResponse::SERVING
                                  : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthService::Check(
    grpc::ServerContext* /*context*/,
    const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  const ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return {grpc::StatusCode::NOT_FOUND,
            "unknown service; this server has \"\" and " +
                std::string(kIdServiceName)};
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  // Sync gRPC has no cancel callback: the loop looks every poll_.
  bool sent = false;
  ServingStatus last = HealthCheckResponse::UNKNOWN;
  for (;;) {
    const bool stopping = shut_down();
    const ServingStatus now = StatusOf(request->service());
    if (!sent || now != last) {
      HealthCheckResponse response;
      response.set_status(now);
      if (!writer->Write(response)) {
        return {grpc::StatusCode::CANCELLED, "the client went away"};
      }
      sent = true;
      last = now;
    }
    if (stopping) {
      return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
    }
    if (context->IsCancelled()) {
      return {grpc::StatusCode::CANCELLED, "the client cancelled"};
    }
    MutexLock lock(&mu_);
    if (!shut_down_) changed_.WaitFor(&mu_, poll_);
  }
}

void HealthService::Shutdown() {
  MutexLock lock(&mu_);
  shut_down_ = true;
  changed_.SignalAll();
}

}  // namespace snowflake::internal
