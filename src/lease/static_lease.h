// The `static` lease: the embedded default. The worker ID comes from the
// configuration and the high-water mark lives in a file in the state
// directory, so a single node needs no coordinator.
#ifndef SNOWFLAKE_SRC_LEASE_STATIC_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_STATIC_LEASE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "src/lease/worker_lease.h"

namespace snowflake {

// The HWM file inside a state directory; one per worker ID, so that a state
// directory reused with another ID never applies the wrong mark.
std::string StaticHwmPath(const std::string& state_dir, int64_t worker_id);

// Thread safety: as WorkerLease.
class StaticLease final : public WorkerLease {
 public:
  // `worker_id` must fit the layout (the generator checks it again).
  // `node_first` to `node_last`: every worker ID the node holds
  // (--workers), whose marks are the node's own; -1: `worker_id` alone.
  StaticLease(int64_t worker_id, std::string state_dir, int64_t node_first = -1,
              int64_t node_last = -1);

  // Opens (creating if needed) the state directory and its HWM file. The
  // first time, when the directory holds no HWM file for this worker ID,
  // logs a warning naming the IDs it does hold marks for: without one, a
  // clock set back since this ID last issued can repeat its IDs.
  // Errors: those of FileHwmStore::Open.
  absl::StatusOr<LeaseGrant> Acquire() override;
  bool Valid() const override { return held_.load(std::memory_order_relaxed); }
  absl::Status Release() override;
  LeaseInfo Info() const override;

 private:
  const int64_t worker_id_;
  const int64_t node_first_;
  const int64_t node_last_;
  const std::string state_dir_;
  const std::string hwm_path_;
  std::unique_ptr<FileHwmStore> store_;  // Set by Acquire; read by no one
                                         // else, so Info() needs no lock.
  std::atomic<bool> held_{false};
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_STATIC_LEASE_H_
