// `snowflake cluster list`: every cluster kept under an etcd prefix or a
// ZooKeeper root znode, found from its keys (docs/operations.md), with its
// stored config and how many worker IDs are held, how many nodes are published
// for discovery and how many IDs have a stored high-water mark. `snowflake
// cluster` shows one cluster; this finds their names.
#ifndef SNOWFLAKE_CLI_CLUSTER_LIST_H_
#define SNOWFLAKE_CLI_CLUSTER_LIST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/commands.h"
#include "src/etcd/etcd_client.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::cli {

// One cluster under a prefix: any key <prefix>/<name>/... makes one.
struct ClusterSummary {
  std::string name;
  std::optional<std::string> config;  // Absent: no node has started yet.
  int64_t held = 0;                   // workers/<id> keys.
  int64_t nodes = 0;                  // nodes/<name> keys.
  int64_t hwms = 0;                   // hwm/<id> keys.
};

// The clusters under `prefix` (no trailing slash), sorted by name. Reads
// every key under the prefix once. Errors: those of `client`.
absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    etcd::EtcdClient& client, const std::string& prefix);
// The same from ZooKeeper: each child znode of `prefix` is a cluster (none
// if `prefix` does not exist); its config is read and its workers/, nodes/
// and hwm/ children counted. Errors: those of `client`.
absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    zookeeper::ZooKeeperClient& client, const std::string& prefix);

// The command: checks the flags (--cluster and --worker-range are not
// used), lists the clusters as a table or, with --json, one JSON object.
// Exit codes: kExitOk (also when there is none: it says so); kExitUsage for
// bad flags; kExitBadData when the coordinator cannot be read (one line on
// the error stream).
int ListClustersCommand(const ClusterFlags& flags, Io& io);

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLUSTER_LIST_H_
