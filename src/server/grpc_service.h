// The node's gRPC server, on its own port (--grpc-listen): the API of
// proto/snowflake/v1/id_service.proto (snowflake.v1.IdService: NextIds,
// Decode, Info, StreamIds) over the same generator path as the HTTP API,
// the standard grpc.health.v1.Health tied to the node's readiness, and
// server reflection. gRPC stays out of this header.
#ifndef SNOWFLAKE_SRC_SERVER_GRPC_SERVICE_H_
#define SNOWFLAKE_SRC_SERVER_GRPC_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/lease/region_map.h"
#include "src/server/limits.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {

struct GrpcServerOptions {
  // HOST:PORT as gRPC takes it ("127.0.0.1:9090", "[::1]:9090"); port 0:
  // any free port (see GrpcServer::port()).
  std::string address;
  // The largest count of NextIds and batch of StreamIds (--max-batch).
  int64_t max_batch = limits::kDefaultMaxBatch;
  // The most IDs being issued over gRPC at once, as HTTP's wait pool
  // bounds its own (HttpHandler::MaxWaitingIds); never below max_batch.
  int64_t max_waiting_ids = 0;
  std::string version;  // For Info.
  RegionMap regions;    // For Decode's region.
};

// Thread safety: port() and Shutdown may be called from any thread. The
// node and metrics must outlive the server. Not copyable.
//
// The destructor, port() and Shutdown are virtual, though nothing derives
// from the class, so that snowflaked calls them through the object: it
// loads this code as a module only when it serves gRPC
// (src/daemon/grpc_module.h) and links none of it.
class GrpcServer {
 public:
  // Binds and starts serving on threads of gRPC's (at most
  // limits::kMaxGrpcThreads calls at once). Errors: kUnavailable naming the
  // address when it cannot be bound (in use, no permission, no such host).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, const Node& node, Metrics& metrics);
  virtual ~GrpcServer();  // Shutdown(0) if not done yet.
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The bound port (useful when started with port 0).
  virtual int port() const;

  // Health turns NOT_SERVING for good and open health watches end; open
  // StreamIds end (UNAVAILABLE, retryable) after the batch they are
  // sending; the port stops taking calls; calls in flight get up to
  // `drain` to finish, then are cancelled. Blocks until every call has
  // returned. Idempotent.
  virtual void Shutdown(std::chrono::milliseconds drain);

  class Impl;

 private:
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_GRPC_SERVICE_H_
