// The lease protocol (docs/operations.md, "The lease protocol, step by
// step") on any Coordinator: claims the free worker ID of the node's range
// that can start soonest, keeps the session alive and the fencing deadline
// up to date, keeps the ID's high-water mark on the coordinator (the fence
// between holders), notices at once when the claim is gone or the
// coordinator's history went back, and gives the ID back on release. The
// coordinator-specific parts are the Coordinator's primitives alone.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATED_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATED_LEASE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/candidates.h"
#include "src/lease/protocol/coordinator.h"
#include "src/lease/protocol/coordinator_hwm_store.h"
#include "src/lease/state_dir.h"
#include "src/lease/worker_lease.h"

namespace snowflake::lease_protocol {

struct CoordinatedLeaseOptions {
  std::string cluster;      // Names the identity file and messages.
  int64_t range_first = 0;  // The node's worker-ID range, inclusive.
  int64_t range_last = 1023;
  int64_t ttl_seconds = 30;
  HolderInfo holder;  // What the claim says (start time: set per claim).
  // Holds the identity file (the last worker ID, preferred when free) and a
  // local HWM floor per worker ID. Empty: neither (tests only).
  std::string state_dir;
  // Which of the node's workers this lease is: worker 0's identity file is
  // identity-<cluster>, worker N's identity-<cluster>.N.
  int slot = 0;
  // The largest clock difference assumed between two nodes: a node taking
  // over an ID with history waits this much longer.
  int64_t max_clock_skew_millis = 1000;
  // The cluster config this node carries, written if absent; and the check
  // of the stored one against it (kFailedPrecondition naming both).
  std::string config;
  std::function<absl::Status(const std::string& stored)> check_config;
};

// The options are checked by the caller (range, TTL, node name). Every
// time is measured on the LeaseClock, and every timed wait goes through it.
//
// Thread safety: as WorkerLease; AwaitTakeover from any thread. Not
// copyable.
class CoordinatedLease final : public WorkerLease {
 public:
  // `coordinator` and `clock` must outlive the lease.
  CoordinatedLease(CoordinatedLeaseOptions options, Coordinator& coordinator,
                   LeaseClock& clock);
  ~CoordinatedLease() override;

  // Checks the cluster config (writing it if absent), opens a session,
  // claims the free worker ID that can start soonest (this node's last one
  // first), starts keeping the session alive and watching the claim.
  // Errors: kFailedPrecondition on a config mismatch (check_config's),
  // kResourceExhausted when no ID of the range is free (naming the range
  // and the holders), the coordinator's (kUnavailable when unreachable).
  absl::StatusOr<LeaseGrant> Acquire() override;
  // True from Acquire until Release or loss, but not during the grant's
  // takeover wait (counted from the claim on the lease's clock).
  bool Valid() const override;
  // Blocks until the takeover wait of the current grant has passed (at
  // once when it has none). True then; false when the claim is lost or the
  // lease released or acquired again first.
  bool AwaitTakeover();
  bool Lost() const override;
  // Stops keep-alives and the watch, and closes the session: the ID is
  // free at once.
  absl::Status Release() override;
  LeaseInfo Info() const override;

 private:
  struct Claimed {
    int64_t worker_id = -1;
    int64_t position = 0;  // Where the claim's watch starts.
    bool history = false;  // The ID has a stored or local HWM.
  };

  absl::Status CheckClusterConfig();
  absl::StatusOr<Claimed> Claim(int64_t session);
  std::vector<Candidate> Candidates(const std::vector<ClaimEntry>& claims,
                                    const std::vector<MarkEntry>& marks);
  // IDs of the range that none of `claims` holds.
  int64_t FreeInRange(const std::vector<ClaimEntry>& claims) const;
  void KeepAlive(int64_t session, int64_t ttl_millis);
  // Re-reads the claim linearizably: lost if it is gone or the
  // coordinator's history went back.
  void VerifyClaim(int64_t session);
  void OnClaimEvent(const ClaimEvent& event);
  void StopWorkers();
  // `confirmed_micros`: when the request the coordinator answered with
  // `ttl_millis` was sent, on clock_.
  void SetDeadline(int64_t confirmed_micros, int64_t ttl_millis);
  std::string IdentityFile() const;
  void SaveIdentity(int64_t worker_id);
  // Marks the claim lost: Valid() turns false at once and stays false until
  // the next Acquire. The first reason sticks.
  void MarkLost(const std::string& reason);

  const CoordinatedLeaseOptions options_;
  Coordinator& coordinator_;
  LeaseClock& clock_;

  // When issuing stops being backed by a live session, on clock_ (which
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
  std::atomic<int64_t> session_{0};
  std::atomic<uint64_t> renew_failures_{0};
  std::atomic<uint64_t> acquire_conflicts_{0};
  std::atomic<uint64_t> acquisitions_{0};
  std::atomic<uint64_t> claims_lost_{0};
  std::atomic<int64_t> ttl_millis_{-1};  // As last granted.
  std::atomic<int64_t> range_free_{-1};  // As last listed.

  mutable Mutex mu_;  // Guards the workers' lifecycle, the stores, reasons.
  CondVar wake_;      // Signalled on stop and on loss.
  bool stop_keep_alive_ ABSL_GUARDED_BY(mu_) = false;
  std::string lost_reason_ ABSL_GUARDED_BY(mu_);
  std::thread keep_alive_;  // Started and joined by the controlling thread.
  std::unique_ptr<ClaimWatch> watch_;  // Controlling thread only.
  // The current grant's stores, replaced by each Acquire; old ones stay
  // alive (a retired keeper may still hold them until it is stopped).
  std::unique_ptr<CoordinatorHwmStore> store_;
  std::unique_ptr<FlooredHwmStore> floored_;
  std::vector<std::unique_ptr<HwmStore>> retired_stores_;
  // The last grant's ID: re-acquiring the same ID with the mark's version
  // unchanged since this process wrote it resumes at once.
  int64_t last_worker_id_ = -1;  // Controlling thread only.
};

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATED_LEASE_H_
