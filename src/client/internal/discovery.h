// Finds a cluster's nodes on its coordinator: the worker claims under
// <prefix>/<cluster>/workers/, each naming the addresses its node
// advertises. Read once when the client is created (an error then fails
// Create), then by a thread of its own every refresh interval, and soon
// after a call found every known node failing, so that nodes that come and
// go are followed.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_DISCOVERY_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_DISCOVERY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "snowflake/client.h"
#include "src/base/mutex.h"
#include "src/client/coordinator_store.h"
#include "src/client/internal/endpoint.h"
#include "src/client/internal/node_set.h"

namespace snowflake::client::internal {

// The coordinator options of `options` (already checked).
CoordinatorOptions CoordinatorOptionsOf(const DiscoveryOptions& options);

// Thread-safe. The destructor stops the thread (waiting for a read in
// flight, at most the coordinator's timeout per call).
class Discovery {
 public:
  // Connects, reads the claims once and sets `nodes` (not owned; must
  // outlive the discovery), then starts the thread. Each node is asked over
  // `preferred` when its claim advertises an address of it, else over the
  // other protocol (EndpointsOfClaims). Errors: kInvalidArgument
  // for a malformed coordinator address; kUnavailable naming the cluster
  // when the coordinator cannot be read or has no claim with a usable
  // address.
  static absl::StatusOr<std::unique_ptr<Discovery>> Start(
      const DiscoveryOptions& options, ClientTransport preferred,
      NodeSet& nodes);
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Asks for a read as soon as the minimum interval since the last allows.
  // Returns at once.
  void RefreshSoon();

  // Successful reads so far.
  uint64_t reads() const { return reads_.load(); }

 private:
  Discovery(const DiscoveryOptions& options, ClientTransport preferred,
            NodeSet& nodes, std::unique_ptr<CoordinatorStore> store);

  // The nodes the coordinator names now. Errors: as Start's.
  absl::StatusOr<std::vector<Endpoint>> Read();
  void Run();

  const DiscoveryOptions options_;
  const ClientTransport preferred_;
  const std::string source_;  // "etcd at URL,..." or "ZooKeeper at ...".
  NodeSet& nodes_;
  std::unique_ptr<CoordinatorStore> store_;  // Only the thread uses it.
  std::atomic<uint64_t> reads_{0};

  Mutex mu_;
  CondVar wake_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool soon_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_DISCOVERY_H_
