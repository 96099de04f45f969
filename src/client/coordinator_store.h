// A connection to the coordinator a cluster keeps its tree on (etcd or
// ZooKeeper, the same tree: src/lease/cluster_schema.h), for reading it:
// the client library's discovery finds the nodes in it, `snowflake
// cluster` prints it and the node's status page shows it. One interface
// over both, so that each reader is written once.
#ifndef SNOWFLAKE_SRC_CLIENT_COORDINATOR_STORE_H_
#define SNOWFLAKE_SRC_CLIENT_COORDINATOR_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_view.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::client {

// Which coordinator, and how to reach it: exactly one of `etcd_endpoints`
// and `zookeeper_hosts`.
struct CoordinatorOptions {
  // etcd client URLs, "http://host:port" or "https://host:port".
  std::vector<std::string> etcd_endpoints;
  // ZooKeeper's "host:port,host:port[/chroot]".
  std::string zookeeper_hosts;
  // ZooKeeper: "user:password" for the digest scheme; empty: none.
  std::string zookeeper_auth;
  // etcd: TLS (PEM files) and authentication, as for snowflaked.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string user;
  std::string password;
  // Per etcd call and endpoint (and to dial one); ZooKeeper: to connect,
  // and per call.
  std::chrono::milliseconds timeout{5000};
};

// One entry of a workers/ or hwm/ directory (src/lease/cluster_view.h).
using StoredEntry = ::snowflake::StoredEntry;

// A connection to one coordinator. Not thread-safe: one thread at a time.
class CoordinatorStore {
 public:
  CoordinatorStore() = default;
  virtual ~CoordinatorStore() = default;
  CoordinatorStore(const CoordinatorStore&) = delete;
  CoordinatorStore& operator=(const CoordinatorStore&) = delete;

  // "etcd" or "ZooKeeper", for messages.
  virtual std::string_view name() const = 0;
  // The value at `key`; nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      const std::string& key) = 0;
  // The entries directly under `dir` (a cluster_schema *Prefix, ending in
  // "/"), in no particular order; none if `dir` does not exist. With
  // `leases`, each entry's lease fields are filled (one more call per
  // entry on etcd).
  virtual absl::StatusOr<std::vector<StoredEntry>> List(const std::string& dir,
                                                        bool leases) = 0;

  // The client underneath, for what is not a plain read (listing clusters,
  // fence-restore's compare-and-set); exactly one is not null. Owned by
  // the store.
  virtual etcd::EtcdClient* etcd() { return nullptr; }
  virtual zookeeper::ZooKeeperClient* zookeeper() { return nullptr; }
};

// A store for `options`: ZooKeeper when `zookeeper_hosts` is set, else
// etcd. etcd connects lazily; ZooKeeper waits up to `timeout` for a
// session. Errors: the client's (bad endpoints: kInvalidArgument; ZooKeeper
// unreachable: kUnavailable; auth refused: kPermissionDenied).
absl::StatusOr<std::unique_ptr<CoordinatorStore>> OpenCoordinatorStore(
    const CoordinatorOptions& options);

// The snapshot of cluster `cluster` under `prefix` (etcd's key prefix or
// ZooKeeper's root znode, no trailing slash): its config, its workers/
// entries with their leases, its hwm/ entries. Errors: the store's.
absl::StatusOr<ClusterSnapshot> ReadCluster(CoordinatorStore& store,
                                            const std::string& prefix,
                                            const std::string& cluster);

// Reads one cluster again and again, on a store it opens on the first read
// and again after a read that failed (a ZooKeeper session may be gone). For
// a node's status page. Not thread-safe: one thread at a time.
class ClusterReader {
 public:
  ClusterReader(CoordinatorOptions options, std::string prefix,
                std::string cluster);
  ClusterReader(const ClusterReader&) = delete;
  ClusterReader& operator=(const ClusterReader&) = delete;

  // Errors: those of OpenCoordinatorStore and ReadCluster.
  absl::StatusOr<ClusterSnapshot> Read();

 private:
  const CoordinatorOptions options_;
  const std::string prefix_;
  const std::string cluster_;
  std::unique_ptr<CoordinatorStore> store_;
};

}  // namespace snowflake::client

#endif  // SNOWFLAKE_SRC_CLIENT_COORDINATOR_STORE_H_
