// Where `snowflake cluster` reads a cluster's tree from: etcd (--etcd) or
// ZooKeeper (--zookeeper). The tree is the same on both
// (src/lease/cluster_schema.h); a ClusterStore hands its entries to the one
// code that decodes and prints them, so both coordinators print the same
// table and JSON.
#ifndef SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_
#define SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/cluster_list.h"
#include "src/etcd/etcd_client.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::cli::internal {

// One entry of a workers/ or hwm/ directory.
struct StoredEntry {
  std::string key;  // The whole key (etcd) or path (ZooKeeper).
  std::string value;
  // workers/ entries only: what the claim is bound to, as --json's "lease"
  // shows it: etcd's lease ID in decimal, or "session 0x<hex>", the
  // ZooKeeper session that owns the ephemeral znode; "0" when neither (a
  // key without lease, a persistent znode).
  std::string lease = "0";
  // etcd only: the lease's time left, or why it is unknown ("expired", an
  // error). ZooKeeper sessions show no time left to other clients: both
  // stay empty.
  std::optional<int64_t> lease_left_seconds;
  std::string lease_error;
};

// A connection to one coordinator. Not thread-safe.
class ClusterStore {
 public:
  virtual ~ClusterStore() = default;

  // "etcd" or "ZooKeeper", for messages.
  virtual std::string_view name() const = 0;
  // The value at `key`; nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      const std::string& key) = 0;
  // The entries directly under `dir` (a cluster_schema *Prefix, ending in
  // "/"), in no particular order; none if `dir` does not exist. With
  // `leases`, each entry's lease fields are filled.
  virtual absl::StatusOr<std::vector<StoredEntry>> List(const std::string& dir,
                                                        bool leases) = 0;
  // Every cluster under `prefix` (no trailing slash), sorted by name.
  virtual absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
      const std::string& prefix) = 0;

  // The client underneath, for what is not a read (fence-restore's
  // compare-and-set); exactly one is not null. Owned by the store.
  virtual etcd::EtcdClient* etcd() { return nullptr; }
  virtual zookeeper::ZooKeeperClient* zookeeper() { return nullptr; }
};

// A store for `flags`: etcd when --etcd was given, ZooKeeper when
// --zookeeper (CheckClusterFlags makes sure it is exactly one). Errors:
// the client's (bad endpoints: kInvalidArgument; ZooKeeper unreachable:
// kUnavailable, auth refused: kPermissionDenied).
absl::StatusOr<std::unique_ptr<ClusterStore>> OpenStore(
    const ClusterFlags& flags);

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_CLUSTER_STORE_H_
