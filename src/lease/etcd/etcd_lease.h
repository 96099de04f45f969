// The `etcd` worker lease (docs/operations.md): claims a free worker ID of
// the node's range on etcd, keeps the claim alive, keeps the ID's
// high-water mark (HWM) in etcd (the fence between holders), notices at
// once when the claim is gone (watch) or etcd was restored from an older
// snapshot (revisions), and gives the ID back on graceful shutdown. It is
// ClusterLease (the one lease protocol) on EtcdCoordinator.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_

#include <memory>
#include <string>

#include "src/etcd/etcd_client.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/cluster_lease.h"

namespace snowflake {

struct EtcdLeaseOptions : ClusterLeaseOptions {
  etcd::Options client;  // Endpoints, TLS, auth. Timeouts are derived.
  std::string prefix = cluster_schema::kDefaultPrefix;
};

class EtcdLease final : public ClusterLease {
 public:
  // `clock` must outlive the lease; the default is CLOCK_BOOTTIME.
  // Errors: ClusterLease::CheckOptions', the client's.
  static absl::StatusOr<std::unique_ptr<EtcdLease>> Create(
      EtcdLeaseOptions options, LeaseClock& clock = SystemLeaseClock());

 private:
  using ClusterLease::ClusterLease;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
