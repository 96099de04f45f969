// The `etcd` worker lease (DESIGN section 5): claims a free worker ID of the
// node's range on etcd, keeps the claim alive, fences itself before etcd can
// give the ID to anyone else, keeps the ID's high-water mark in etcd, and
// gives the ID back on graceful shutdown.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "snowflake/layout.h"
#include "snowflake/mutex.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/worker_lease.h"

namespace snowflake {

struct EtcdLeaseOptions {
  etcd::Options client;  // Endpoints, TLS, auth. Timeouts are derived.
  std::string prefix = "/snowflake";
  std::string cluster = "default";
  Layout layout;            // Must match the cluster's stored config.
  int64_t range_first = 0;  // The node's worker-ID range, inclusive.
  int64_t range_last = 1023;
  int64_t ttl_seconds = 30;
  std::string node_name;
  std::string region;
  std::vector<std::string> addresses;  // For discovery.
  // Remembers the last worker ID so a restarted node prefers it. Empty:
  // none.
  std::string identity_file;
};

// Thread safety: as WorkerLease. Not copyable.
class EtcdLease final : public WorkerLease {
 public:
  // Errors: kInvalidArgument for a bad range or TTL, the client's errors.
  static absl::StatusOr<std::unique_ptr<EtcdLease>> Create(
      EtcdLeaseOptions options);
  ~EtcdLease() override;

  // Checks the cluster config (writing it if absent), grants a lease, claims
  // a worker ID (this node's last one if free, else the free one with the
  // oldest HWM) and starts keeping the lease alive. Errors:
  // kFailedPrecondition on a layout/epoch mismatch (naming both),
  // kResourceExhausted when no ID of the range is free (naming the range and
  // the holders), kUnavailable when etcd cannot be reached.
  absl::StatusOr<LeaseGrant> Acquire() override;
  bool Valid() const override;
  bool Lost() const override;
  // Stops keep-alives and revokes the lease: the ID is free at once.
  absl::Status Release() override;
  LeaseInfo Info() const override;

  // The fencing deadline's distance below the granted TTL.
  static int64_t SafetyMarginMillis(int64_t ttl_seconds);

 private:
  class HwmStoreImpl;
  explicit EtcdLease(EtcdLeaseOptions options,
                     std::unique_ptr<etcd::EtcdClient> client);

  absl::Status CheckClusterConfig();
  absl::StatusOr<int64_t> Claim(int64_t lease_id);
  std::vector<int64_t> Candidates(const std::vector<etcd::KeyValue>& held,
                                  const std::vector<etcd::KeyValue>& hwms);
  void KeepAlive(int64_t lease_id, int64_t ttl_seconds);
  void StopKeepAlive();
  void SetDeadline(int64_t monotonic_micros_sent, int64_t ttl_seconds);
  void SaveIdentity(int64_t worker_id);
  // Marks the lease lost (the HWM store saw the claim gone).
  void MarkLost() { lost_.store(true, std::memory_order_release); }

  const EtcdLeaseOptions options_;
  const std::unique_ptr<etcd::EtcdClient> client_;

  // The fence: issuing is allowed while the monotonic clock is below it.
  std::atomic<int64_t> deadline_micros_{0};
  std::atomic<bool> lost_{false};
  std::atomic<bool> coordinator_up_{true};
  std::atomic<int64_t> worker_id_{-1};
  std::atomic<int64_t> lease_id_{0};
  std::atomic<uint64_t> renew_failures_{0};
  std::atomic<uint64_t> acquire_conflicts_{0};
  std::atomic<uint64_t> acquisitions_{0};

  Mutex mu_;  // Guards the keep-alive thread's lifecycle and the store.
  CondVar wake_;
  bool stop_keep_alive_ ABSL_GUARDED_BY(mu_) = false;
  std::thread keep_alive_;  // Started and joined by the controlling thread.
  std::unique_ptr<HwmStoreImpl> store_;  // Replaced by each Acquire.
  std::vector<std::unique_ptr<HwmStoreImpl>> retired_stores_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_LEASE_H_
