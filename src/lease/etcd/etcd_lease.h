// The `etcd` worker lease (docs/operations.md): claims a free worker ID of
// the node's range on etcd, keeps the claim alive, keeps the ID's
// high-water mark (HWM) in etcd (the fence between holders), notices at
// once when the claim is gone (watch) or etcd was restored from an older
// snapshot (revisions), and gives the ID back on graceful shutdown.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "snowflake/layout.h"
#include "src/base/mutex.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/etcd/etcd_hwm_store.h"
#include "src/lease/etcd/etcd_schema.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/candidates.h"
#include "src/lease/region_map.h"
#include "src/lease/state_dir.h"
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
      EtcdLeaseOptions options, LeaseClock& clock = SystemLeaseClock());
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
  class RevisionGuard;
  struct Claimed {
    int64_t worker_id = -1;
    int64_t revision = 0;  // etcd's revision right after the claim.
    bool history = false;  // The ID has a stored or local HWM.
  };
  EtcdLease(EtcdLeaseOptions options, std::unique_ptr<etcd::EtcdClient> client,
            std::shared_ptr<RevisionGuard> guard, LeaseClock& clock);

  absl::Status CheckClusterConfig();
  absl::StatusOr<Claimed> Claim(int64_t lease_id);
  std::vector<lease_protocol::Candidate> Candidates(
      const std::vector<etcd::KeyValue>& held,
      const std::vector<etcd::KeyValue>& hwms);
  void KeepAlive(int64_t lease_id, int64_t ttl_seconds);
  // Re-reads the claim with a linearizable transaction: lost if it is gone
  // or etcd's revision went below one already seen.
  void VerifyClaim(int64_t lease_id);
  void OnWatchEvent(const etcd::WatchEvent& event, int64_t lease_id);
  void StopWorkers();
  // `sent_micros`: when the grant or keep-alive that etcd answered with
  // `ttl_seconds` was sent, on clock_.
  void SetDeadline(int64_t sent_micros, int64_t ttl_seconds);
  std::string IdentityFile() const;
  void SaveIdentity(int64_t worker_id);
  // Marks the claim lost: Valid() turns false at once and stays false until
  // the next Acquire. The first reason sticks.
  void MarkLost(const std::string& reason);

  const EtcdLeaseOptions options_;
  const std::unique_ptr<etcd::EtcdClient> client_;
  const std::shared_ptr<RevisionGuard> guard_;
  LeaseClock& clock_;

  // When issuing stops being backed by a live lease, on clock_ (which
  // counts while the machine is suspended, so a suspend does not extend
  // it). From then on the lease is presumed expired; issuing goes on below
  // the stored HWM.
  std::atomic<int64_t> deadline_micros_{0};
  // When the current grant's takeover wait ends, on clock_: 0 when it has
  // none or it has passed (Valid then skips the clock), kNever while
  // Acquire has not yet decided.
  static constexpr int64_t kNever = INT64_MAX;
  mutable std::atomic<int64_t> issue_from_micros_{kNever};
  std::atomic<bool> lost_{false};
  std::atomic<bool> recheck_{false};  // The watch asks for a VerifyClaim.
  std::atomic<bool> coordinator_up_{true};
  std::atomic<int64_t> worker_id_{-1};
  std::atomic<int64_t> lease_id_{0};
  std::atomic<uint64_t> renew_failures_{0};
  std::atomic<uint64_t> acquire_conflicts_{0};
  std::atomic<uint64_t> acquisitions_{0};
  std::atomic<uint64_t> claims_lost_{0};

  mutable Mutex mu_;  // Guards the workers' lifecycle, the stores, reasons.
  CondVar wake_;      // Signalled on stop and on loss.
  bool stop_keep_alive_ ABSL_GUARDED_BY(mu_) = false;
  std::string lost_reason_ ABSL_GUARDED_BY(mu_);
  std::thread keep_alive_;  // Started and joined by the controlling thread.
  std::unique_ptr<etcd::KeyWatch> watch_;  // Controlling thread only.
  // The current grant's stores, replaced by each Acquire; old ones stay
  // alive (a retired keeper may still hold them until it is stopped).
  std::unique_ptr<EtcdHwmStore> store_;
  std::unique_ptr<FlooredHwmStore> floored_;
  std::vector<std::unique_ptr<HwmStore>> retired_stores_;
  // The last grant's ID and the HWM revision this process last wrote for
  // it: re-acquiring the same ID with the mark unchanged resumes at once.
  int64_t last_worker_id_ = -1;  // Controlling thread only.
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
