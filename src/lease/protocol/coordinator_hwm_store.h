// The high-water mark of one worker ID on a coordinator (`hwm/<id>`,
// docs/operations.md): the fence between successive holders of the ID.
// Every write is Coordinator::CompareAndSetMark on the version last seen,
// which also requires the claim to be this holder's, so a late or stale
// write can never move it under a newer one. The keeper only ever raises it
// while issuing; a graceful release lowers it to just above the last issued
// ID, after the generator has stopped.
#ifndef SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_HWM_STORE_H_
#define SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_HWM_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "src/base/mutex.h"
#include "src/core/hwm.h"
#include "src/lease/protocol/coordinator.h"

namespace snowflake::lease_protocol {

// Thread-safe. The coordinator must outlive the store.
class CoordinatorHwmStore final : public HwmStore {
 public:
  // `on_lost` runs (with a reason) when a write finds the claim no longer
  // this session's.
  CoordinatorHwmStore(Coordinator& coordinator, int64_t worker_id,
                      int64_t session,
                      std::function<void(const std::string&)> on_lost);

  // Reads the mark and remembers its version for the next compare-and-set.
  // Errors: the coordinator's; kDataLoss for a value that is not a mark.
  absl::StatusOr<std::optional<int64_t>> Load() override;

  // Compare-and-set to `unix_millis`. When another writer moved the mark
  // (`snowflake cluster fence-restore`, or an earlier attempt of ours that
  // timed out and was applied late), it adopts that version, and succeeds
  // without writing if the stored mark is already at or above `unix_millis`
  // (the fence then holds a fortiori). Errors: kFailedPrecondition when the
  // claim is gone (and `on_lost` has run), kAborted when the mark moved
  // under two rounds in a row, kDataLoss when the stored value is not a
  // mark (its version is adopted: the next Store may replace it), the
  // coordinator's.
  absl::Status Store(int64_t unix_millis) override;

  std::string Describe() const override;

  // The mark's version as last read or written by this store.
  Version known_version() const;

 private:
  Coordinator& coordinator_;
  const int64_t worker_id_;
  const int64_t session_;
  const std::function<void(const std::string&)> on_lost_;

  mutable Mutex mu_;  // Serializes writers, so versions are followed.
  Version known_version_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snowflake::lease_protocol

#endif  // SNOWFLAKE_SRC_LEASE_PROTOCOL_COORDINATOR_HWM_STORE_H_
