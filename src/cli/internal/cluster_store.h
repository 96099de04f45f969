// Where `snowflake cluster` reads a cluster's tree from: etcd (--etcd) or
// ZooKeeper (--zookeeper). The tree is the same on both
// (src/lease/cluster_schema.h); the client library's CoordinatorStore hands
// its entries to the one code that decodes and prints them, so both
// coordinators print the same table and JSON (and the client's discovery
// reads the same entries the same way).
#ifndef SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_
#define SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/cluster_list.h"
#include "src/client/coordinator_store.h"

namespace snowflake::cli::internal {

using ClusterStore = client::CoordinatorStore;
using StoredEntry = client::StoredEntry;

// The coordinator options of `flags`' --etcd or --zookeeper, TLS files,
// credentials and --timeout-ms.
client::CoordinatorOptions CoordinatorOptionsOf(const ClusterFlags& flags);

// A store for `flags`: etcd when --etcd was given, ZooKeeper when
// --zookeeper (CheckClusterFlags makes sure it is exactly one). Errors:
// the client's (bad endpoints: kInvalidArgument; ZooKeeper unreachable:
// kUnavailable, auth refused: kPermissionDenied).
absl::StatusOr<std::unique_ptr<ClusterStore>> OpenStore(
    const ClusterFlags& flags);

// Every cluster under `prefix` (no trailing slash) of the store's
// coordinator, sorted by name (cluster_list.h's ListClusters).
absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    ClusterStore& store, const std::string& prefix);

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_
