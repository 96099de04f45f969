// The half of snowflaked that needs gRPC: the gRPC service, the etcd lease
// and the coordinator reads of the status page's cluster view. It is built
// as a module of its own, snowflaked-grpc.so, which snowflaked loads only
// when its configuration uses one of them (--grpc-listen, or a coordinator).
// A node in static mode that serves HTTP alone, the default, never maps
// gRPC, protobuf or OpenSSL: it starts faster and holds less memory
// (docs/operations.md, "Files a node needs").
//
// snowflaked exports its own symbols (the snowflake namespace) to the
// module, so both share one copy of the node, the metrics and the logger.
#ifndef SNOWFLAKE_SRC_DAEMON_GRPC_MODULE_H_
#define SNOWFLAKE_SRC_DAEMON_GRPC_MODULE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/client/coordinator_store.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/lease/worker_lease.h"
#include "src/server/cluster_status.h"
#include "src/server/grpc_service.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {

// What the module gives snowflaked. Plain function pointers: nothing in it
// is linked into snowflaked.
struct GrpcModule {
  // SNOWFLAKE_VERSION of the build that made the module; snowflaked loads
  // only its own.
  const char* version;
  // EtcdLease::Create with the system's lease clock.
  absl::StatusOr<std::unique_ptr<WorkerLease>> (*create_etcd_lease)(
      EtcdLeaseOptions options);
  // GrpcServer::Start.
  absl::StatusOr<std::unique_ptr<GrpcServer>> (*start_grpc_server)(
      const GrpcServerOptions& options, const Node& node, Metrics& metrics);
  // A client::ClusterReader of `cluster` under `prefix`, as ClusterStatus
  // calls it (on one thread at a time).
  ClusterStatus::Reader (*make_cluster_reader)(
      client::CoordinatorOptions coordinator, std::string prefix,
      std::string cluster);
};

// The symbol the module defines: extern "C" const GrpcModule* NAME().
inline constexpr char kGrpcModuleEntry[] = "snowflake_grpc_module";
// Its file name, looked for beside snowflaked (the build tree), then in
// lib/snowflake/ of the prefix snowflaked is installed in (../lib/snowflake
// from its bin/).
inline constexpr char kGrpcModuleFile[] = "snowflaked-grpc.so";

// Loads the module (snowflaked calls this once, at start). Errors
// (kFailedPrecondition): where it was looked for and why it failed (not
// found, a missing library, another version), and what to do.
absl::StatusOr<const GrpcModule*> LoadGrpcModule();

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_DAEMON_GRPC_MODULE_H_
