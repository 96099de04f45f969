// The `zookeeper` worker lease (docs/operations.md): the same lease protocol
// as etcd's (ClusterLease) on ZooKeeperCoordinator. The claim is an
// ephemeral znode bound to the node's ZooKeeper session, the high-water
// mark a persistent znode raised by compare-and-set on its version.
#ifndef SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_LEASE_H_

#include <memory>
#include <string>

#include "src/lease/cluster_schema.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/cluster_lease.h"

namespace snowflake {

// ttl_seconds is the session timeout asked of the ensemble (which may
// clamp it to its own bounds; the lease keeps time on the one granted).
struct ZooKeeperLeaseOptions : ClusterLeaseOptions {
  // "host:port,host:port[/chroot]".
  std::string hosts;
  // The znode clusters live under (below the chroot, if any).
  std::string root = cluster_schema::kDefaultPrefix;
  // "user:password" for ZooKeeper's digest scheme; empty: none. With it,
  // the lease's znodes are readable and writable by that user alone.
  std::string auth;
};

class ZooKeeperLease final : public ClusterLease {
 public:
  // `clock` must outlive the lease; the default is CLOCK_BOOTTIME. Does not
  // connect (Acquire does). Errors: ClusterLease::CheckOptions',
  // kInvalidArgument for empty hosts, a root that is not an absolute path
  // or auth that is not "user:password".
  static absl::StatusOr<std::unique_ptr<ZooKeeperLease>> Create(
      ZooKeeperLeaseOptions options, LeaseClock& clock = SystemLeaseClock());

 private:
  using ClusterLease::ClusterLease;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_LEASE_H_
