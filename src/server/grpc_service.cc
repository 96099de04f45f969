#include "src/server/grpc_service.h"

#include <atomic>
#include <utility>

#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "snowflake/v1/id_service.grpc.pb.h"
#include "spdlog/spdlog.h"
#include "src/base/mutex.h"
#include "src/base/strings.h"
#include "src/server/internal/health_service.h"
#include "src/server/internal/id_service_core.h"
#include "src/server/internal/rpc_error.h"

namespace snowflake {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NanosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                              start)
      .count();
}

// `status` as gRPC sends it: the code as it is, and for a retryable error
// its delay in the details and as trailing metadata.
grpc::Status ToGrpc(const absl::Status& status, grpc::ServerContext& context) {
  if (status.ok()) return grpc::Status::OK;
  const internal::RpcError error = internal::ToRpcError(status);
  if (error.retry_after_millis > 0) {
    context.AddTrailingMetadata(internal::kRetryAfterMetadata,
                                base::Cat(error.retry_after_millis));
  }
  return {static_cast<grpc::StatusCode>(error.code), error.message,
          error.details};
}

// snowflake.v1.IdService: each call is IdServiceCore's, timed and counted.
class IdService final : public v1::IdService::Service {
 public:
  IdService(internal::IdServiceCore& core, Metrics& metrics,
            const std::atomic<bool>& stopping)
      : core_(core), metrics_(metrics), stopping_(stopping) {}

  grpc::Status NextIds(grpc::ServerContext* context,
                       const v1::NextIdsRequest* request,
                       v1::NextIdsResponse* response) override {
    const Clock::time_point start = Clock::now();
    return Finish(GrpcMethod::kNextIds, start,
                  core_.NextIds(request->count(), *response), *context);
  }

  grpc::Status Decode(grpc::ServerContext* context,
                      const v1::DecodeRequest* request,
                      v1::DecodeResponse* response) override {
    const Clock::time_point start = Clock::now();
    return Finish(GrpcMethod::kDecode, start, core_.Decode(*request, *response),
                  *context);
  }

  grpc::Status Info(grpc::ServerContext* context,
                    const v1::InfoRequest* /*request*/,
                    v1::InfoResponse* response) override {
    const Clock::time_point start = Clock::now();
    core_.Info(*response);
    return Finish(GrpcMethod::kInfo, start, absl::OkStatus(), *context);
  }

  // Batches until the client cancels (a write fails: the batch it held is
  // abandoned, never issued again), the node stops issuing, or the server
  // shuts down. A client that stops reading blocks Write (gRPC's flow
  // control) until it reads again, cancels, or shutdown cancels the call.
  grpc::Status StreamIds(
      grpc::ServerContext* context, const v1::StreamIdsRequest* request,
      grpc::ServerWriter<v1::NextIdsResponse>* writer) override {
    const Clock::time_point start = Clock::now();
    absl::Status status = core_.CheckCount("batch", request->batch());
    v1::NextIdsResponse batch;
    while (status.ok()) {
      if (context->IsCancelled()) return Cancelled(start);
      if (stopping_.load()) {
        status = absl::UnavailableError(
            "node is shutting down; retry on another node");
        break;
      }
      batch.Clear();
      status = core_.NextIds(request->batch(), batch);
      if (status.ok() && !writer->Write(batch)) return Cancelled(start);
    }
    return Finish(GrpcMethod::kStreamIds, start, status, *context);
  }

 private:
  grpc::Status Finish(GrpcMethod method, Clock::time_point start,
                      const absl::Status& status,
                      grpc::ServerContext& context) {
    grpc::Status out = ToGrpc(status, context);
    metrics_.RecordGrpcCall(method, status.code(), NanosSince(start));
    return out;
  }

  grpc::Status Cancelled(Clock::time_point start) {
    metrics_.RecordGrpcCall(GrpcMethod::kStreamIds,
                            absl::StatusCode::kCancelled, NanosSince(start));
    return {grpc::StatusCode::CANCELLED, "the client went away"};
  }

  internal::IdServiceCore& core_;
  Metrics& metrics_;
  const std::atomic<bool>& stopping_;
};

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(const GrpcServerOptions& options, const Node& node, Metrics& metrics)
      : core_(internal::IdServiceOptions{options.max_batch,
                                         options.max_waiting_ids,
                                         options.version, options.regions},
              node, metrics),
        id_service_(core_, metrics, stopping_),
        health_([&node] { return node.Ready(); }) {}

  ~Impl() { Shutdown(std::chrono::milliseconds(0)); }

  absl::Status Start(const std::string& address) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                             &port_);
    grpc::ResourceQuota quota("snowflake_grpc");
    quota.SetMaxThreads(limits::kMaxGrpcThreads);
    builder.SetResourceQuota(quota);
    builder.SetMaxReceiveMessageSize(limits::kMaxGrpcRequestBytes);
    builder.RegisterService(&id_service_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      server_.reset();
      return absl::UnavailableError(base::Cat(
          "cannot serve gRPC on ", address,
          " (--grpc-listen): the address is in use, not this host's, or not "
          "allowed"));
    }
    spdlog::info("event=grpc_listening address={} port={}", address, port_);
    return absl::OkStatus();
  }

  int port() const { return port_; }

  void Shutdown(std::chrono::milliseconds drain) {
    MutexLock lock(&shutdown_mu_);
    if (server_ == nullptr || stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    health_.Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + drain);
    server_->Wait();
  }

 private:
  std::atomic<bool> stopping_{false};
  internal::IdServiceCore core_;
  IdService id_service_;
  internal::HealthService health_;
  int port_ = 0;
  Mutex shutdown_mu_;
  bool stopped_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  // Last: destroyed first, before the services its calls use.
  std::unique_ptr<grpc::Server> server_;
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, const Node& node, Metrics& metrics) {
  auto impl = std::make_unique<Impl>(options, node, metrics);
  if (absl::Status s = impl->Start(options.address); !s.ok()) return s;
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() = default;

int GrpcServer::port() const { return impl_->port(); }

void GrpcServer::Shutdown(std::chrono::milliseconds drain) {
  impl_->Shutdown(drain);
}

}  // namespace snowflake
