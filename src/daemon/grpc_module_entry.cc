// The entry of snowflaked-grpc.so (src/daemon/grpc_module.h): the table of
// what the module gives snowflaked.
#include <memory>
#include <string>
#include <utility>

#include "src/client/coordinator_store.h"
#include "src/daemon/grpc_module.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/server/grpc_service.h"

namespace snowflake {
namespace {

absl::StatusOr<std::unique_ptr<WorkerLease>> CreateEtcdLease(
    EtcdLeaseOptions options) {
  auto lease = EtcdLease::Create(std::move(options));
  if (!lease.ok()) return lease.status();
  return std::unique_ptr<WorkerLease>(*std::move(lease));
}

ClusterStatus::Reader MakeClusterReader(client::CoordinatorOptions coordinator,
                                        std::string prefix,
                                        std::string cluster) {
  auto reader = std::make_shared<client::ClusterReader>(
      std::move(coordinator), std::move(prefix), std::move(cluster));
  return [reader] { return reader->Read(); };
}

constexpr GrpcModule kModule{SNOWFLAKE_VERSION, &CreateEtcdLease,
                             &GrpcServer::Start, &MakeClusterReader};

}  // namespace
}  // namespace snowflake

extern "C" __attribute__((visibility("default"))) const snowflake::GrpcModule*
snowflake_grpc_module() {
  return &snowflake::kModule;
}
