// The `etcd` worker lease (docs/operations.md): claims a free worker ID of
// the node's range on etcd, keeps the claim alive, keeps the ID's
// high-water mark (HWM) in etcd (the fence between holders), notices at
// once when the claim is gone (watch) or etcd was restored from an older
// snapshot (revisions), and gives the ID back on graceful shutdown. The
// protocol is lease_protocol::CoordinatedLease; this is its wiring to
// etcd (EtcdCoordinator) and etcd's options.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snowflake/layout.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/etcd/etcd_coordinator.h"
#include "src/lease/etcd/etcd_schema.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/coordinated_lease.h"
#include "src/lease/region_map.h"
#include "src/lease/worker_lease.h"

namespace snowflake {

struct EtcdLeaseOptions {
  etcd::Options client;  // Endpoints, TLS, auth. Timeouts are derived.
  std::string prefix = etcd_schema::kDefaultPrefix;
  std::string cluster = "default";
  Layout layout;            // Must match the cluster's stored config,
  RegionMap regions;        // and so must the region map.
  int64_t range_first = 0;  // The node's worker-ID range, inclusive.
  int64_t range_last = 1023;
  int64_t ttl_seconds = 30;
  std::string node_name;
  std::string region;
  std::vector<std::string> addresses;  // For discovery.
  // Holds the identity file (the last worker ID, preferred when free) and a
  // local HWM floor per worker ID. Empty: neither (tests only).
  std::string state_dir;
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
class EtcdLease final : public WorkerLease {
 public:
  // `clock` must outlive the lease; the default is CLOCK_BOOTTIME.
  // Errors: kInvalidArgument for a bad range or TTL, the client's errors.
  static absl::StatusOr<std::unique_ptr<EtcdLease>> Create(
      EtcdLeaseOptions options, LeaseClock &clock = SystemLeaseClock());
  ~EtcdLease() override;

  // Checks the cluster config (writing it if absent), grants a lease,
  // claims the free worker ID that can start soonest (this node's last one
  // first), starts keeping the lease alive and watching the claim.
  // Errors: kFailedPrecondition on a layout or region map mismatch (naming
  // both), kResourceExhausted when no ID of the range is free (naming the
  // range and the holders), kUnavailable when etcd cannot be reached.
  absl::StatusOr<LeaseGrant> Acquire() override;
  // True from Acquire until Release or loss, but not during the grant's
  // takeover wait (LeaseGrant::takeover_wait_millis on the lease's clock,
  // counted from the claim): no ID may be issued under the grant before a
  // holder whose claim vanished has stopped. The daemon waits that long
  // before it starts issuing anyway; this enforces it where it is decided.
  bool Valid() const override;
  // Blocks until the takeover wait of the current grant has passed on the
  // lease's clock (at once when it has none). True then; false when the
  // claim is lost or the lease released or acquired again first.
  bool AwaitTakeover();
  bool Lost() const override;
  // Stops keep-alives and the watch, and revokes the lease: the ID is free
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

 private:
  EtcdLease(EtcdLeaseOptions options,
            std::unique_ptr<EtcdCoordinator> coordinator, LeaseClock &clock);

  // Compares the cluster's stored config with this node's: a different
  // layout or region map is kFailedPrecondition naming both.
  absl::Status CheckClusterConfig(const std::string &stored) const;

  const EtcdLeaseOptions options_;
  // Declared before the protocol, which runs on it until destroyed.
  const std::unique_ptr<EtcdCoordinator> coordinator_;
  lease_protocol::CoordinatedLease protocol_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
