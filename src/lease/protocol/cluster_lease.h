// A worker lease on a coordinator (etcd or ZooKeeper; docs/operations.md):
// the lease protocol (CoordinatedLease) on one cluster's tree
// (cluster_schema.h), with what every coordinator mode shares: the checks of
// the options, the cluster config (layout, epoch and region map) that every
// node must agree on, and the protocol's timing. EtcdLease and
// ZooKeeperLease only make the coordinator.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_CLUSTER_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_CLUSTER_LEASE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snowflake/layout.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/coordinated_lease.h"
#include "src/lease/protocol/coordinator.h"
#include "src/lease/region_map.h"
#include "src/lease/worker_lease.h"

namespace snowflake {

// What a node asks of its cluster, whatever the coordinator.
struct ClusterLeaseOptions {
  std::string cluster = "default";
  Layout layout;            // Must match the cluster's stored config,
  RegionMap regions;        // and so must the region map.
  int64_t range_first = 0;  // The node's worker-ID range, inclusive.
  int64_t range_last = 1023;
  // etcd: the lease TTL asked for; ZooKeeper: the session timeout.
  int64_t ttl_seconds = 30;
  std::string node_name;
  std::string region;
  std::vector<std::string> addresses;  // For discovery.
  // Holds the identity file (the last worker ID, preferred when free) and a
  // local HWM floor per worker ID. Empty: neither (tests only).
  std::string state_dir;
  // Which of the node's workers (--workers) this lease is, from 0: each has
  // an identity file of its own.
  int slot = 0;
  // The largest clock difference assumed between two nodes: a node taking
  // over an ID with history waits this much longer.
  int64_t max_clock_skew_millis = 1000;
};

// Every time the lease keeps (the fencing deadline, the takeover wait, the
// keep-alive schedule) is measured on the LeaseClock it is given, and every
// timed wait goes through it.
//
// Thread safety: as WorkerLease; AwaitTakeover from any thread. Not
// copyable.
class ClusterLease : public WorkerLease {
 public:
  // kInvalidArgument for a range outside the layout, a TTL outside 1-3600 s
  // or an empty node name.
  static absl::Status CheckOptions(const ClusterLeaseOptions& options);
  // `clock` must outlive the lease. Errors: CheckOptions'.
  static absl::StatusOr<std::unique_ptr<ClusterLease>> Create(
      ClusterLeaseOptions options,
      std::unique_ptr<lease_protocol::Coordinator> coordinator,
      LeaseClock& clock);
  ~ClusterLease() override;

  // Checks the cluster config (writing it if absent), opens a session,
  // claims the free worker ID that can start soonest (this node's last one
  // first), starts keeping the session alive and watching the claim.
  // Errors: kFailedPrecondition on a layout or region map mismatch (naming
  // both), kResourceExhausted when no ID of the range is free (naming the
  // range and the holders), kUnavailable when the coordinator cannot be
  // reached, and the coordinator's own (kPermissionDenied for refused
  // credentials, kFailedPrecondition for a missing ZooKeeper chroot).
  absl::StatusOr<LeaseGrant> Acquire() override;
  // True from Acquire until Release or loss, but not during the grant's
  // takeover wait (LeaseGrant::takeover_wait_millis on the lease's clock,
  // counted from the claim): no ID may be issued under the grant before a
  // holder whose claim vanished has stopped.
  bool Valid() const override;
  // Blocks until the takeover wait of the current grant has passed on the
  // lease's clock (at once when it has none). True then; false when the
  // claim is lost or the lease released or acquired again first.
  bool AwaitTakeover();
  bool Lost() const override;
  // Stops keep-alives and the watch, and ends the session: the ID is free
  // at once.
  absl::Status Release() override;
  LeaseInfo Info() const override;

  // The fencing deadline's distance below the granted TTL.
  static int64_t SafetyMarginMillis(int64_t ttl_seconds);
  // How long a node taking over an ID with history waits before issuing:
  // one keep-alive interval and the margin, so that a holder whose claim
  // vanished has learned it and stopped, plus the clock-skew bound.
  static int64_t TakeoverWaitMillis(int64_t ttl_seconds,
                                    int64_t max_clock_skew_millis);
  // How long one coordinator call may take: every call must end well
  // inside one keep-alive period.
  static std::chrono::milliseconds CallTimeout(int64_t ttl_seconds);

 protected:
  ClusterLease(ClusterLeaseOptions options,
               std::unique_ptr<lease_protocol::Coordinator> coordinator,
               LeaseClock& clock);

 private:
  // Compares the cluster's stored config with this node's: a different
  // layout or region map is kFailedPrecondition naming both.
  absl::Status CheckClusterConfig(const std::string& stored) const;

  const ClusterLeaseOptions options_;
  // Declared before the protocol, which runs on it until destroyed.
  const std::unique_ptr<lease_protocol::Coordinator> coordinator_;
  lease_protocol::CoordinatedLease protocol_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_CLUSTER_LEASE_H_
