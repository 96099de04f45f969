// grpc_baseline: the baseline of bench/run's gRPC row (section 9): a gRPC
// server of snowflake.v1.IdService whose NextIds answers every call with the
// same reply, built once: one fixed64 ID and the other fields as the node
// answered them (grpc_load once), so that the reply has the node's size. It
// runs the node's gRPC server settings (the synchronous API, its thread
// quota and request size limit) without the node's work: what is left is
// the cost of gRPC itself. The other methods answer UNIMPLEMENTED.
//
//   grpc_baseline 127.0.0.1:PORT ID WORKER_ID FIRST_TICK LAST_TICK
//
// Prints "listening port=P" once it serves; stops on SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "snowflake/v1/id_service.grpc.pb.h"
#include "src/server/limits.h"

namespace {

using snowflake::v1::NextIdsRequest;
using snowflake::v1::NextIdsResponse;

class ConstantIdService final : public snowflake::v1::IdService::Service {
 public:
  explicit ConstantIdService(NextIdsResponse reply)
      : reply_(std::move(reply)) {}

  grpc::Status NextIds(grpc::ServerContext* /*context*/,
                       const NextIdsRequest* /*request*/,
                       NextIdsResponse* response) override {
    *response = reply_;
    return grpc::Status::OK;
  }

 private:
  const NextIdsResponse reply_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: grpc_baseline HOST:PORT ID WORKER_ID FIRST_TICK "
                 "LAST_TICK\n");
    return 2;
  }
  NextIdsResponse reply;
  reply.add_ids(std::strtoull(argv[2], nullptr, 10));
  reply.set_worker_id(std::strtoll(argv[3], nullptr, 10));
  reply.set_first_tick(std::strtoll(argv[4], nullptr, 10));
  reply.set_last_tick(std::strtoll(argv[5], nullptr, 10));

  // The signals are taken by sigwait below, never by a handler: blocked
  // before gRPC starts its threads, which inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ConstantIdService service(reply);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(argv[1], grpc::InsecureServerCredentials(), &port);
  grpc::ResourceQuota quota("grpc_baseline");
  quota.SetMaxThreads(snowflake::limits::kMaxGrpcThreads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(snowflake::limits::kMaxGrpcRequestBytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "grpc_baseline: cannot listen on %s\n", argv[1]);
    return 1;
  }
  std::printf("listening port=%d reply_bytes=%zu\n", port,
              reply.ByteSizeLong());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown();
  server->Wait();
  return 0;
}
