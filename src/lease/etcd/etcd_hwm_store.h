// The high-water mark of one worker ID in etcd (`<prefix>/<cluster>/hwm/<id>`,
// docs/operations.md). It is the fence between successive holders of the
// ID: every write is a compare-and-set on the key's last modification
// revision that also requires the worker key to be bound to this holder's
// lease, so a late or stale write can never move it under a newer one. The
// keeper only ever raises it while issuing; a graceful release lowers it to
// just above the last issued ID, after the generator has stopped.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_HWM_STORE_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_HWM_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "src/base/mutex.h"
#include "src/core/hwm.h"
#include "src/etcd/etcd_client.h"

namespace snowflake {

// Thread-safe. The client must outlive the store.
class EtcdHwmStore final : public HwmStore {
 public:
  // `on_lost` runs (with a reason) when a write finds the worker key no
  // longer bound to `lease_id`.
  EtcdHwmStore(etcd::EtcdClient& client, std::string worker_key,
               std::string hwm_key, int64_t lease_id,
               std::function<void(const std::string&)> on_lost);

  // Reads the mark and remembers its revision for the next compare-and-set.
  // Errors: the client's; kDataLoss for a value that is not a mark.
  absl::StatusOr<std::optional<int64_t>> Load() override;

  // Compare-and-set to `unix_millis`. When another writer moved the mark
  // (`snowflake cluster fence-restore`, or an earlier attempt of ours that
  // timed out and was applied late), it adopts that revision, and succeeds
  // without writing if the stored mark is already at or above `unix_millis`
  // (the fence then holds a fortiori). Errors: kFailedPrecondition when the
  // claim is gone (and `on_lost` has run), the client's.
  absl::Status Store(int64_t unix_millis) override;

  std::string Describe() const override;

  // The key's modification revision as last read or written by this store;
  // 0 when it does not exist.
  int64_t known_revision() const;

 private:
  absl::StatusOr<std::optional<int64_t>> Decode(
      const std::optional<etcd::KeyValue>& kv) const;

  etcd::EtcdClient& client_;
  const std::string worker_key_;
  const std::string hwm_key_;
  const int64_t lease_id_;
  const std::function<void(const std::string&)> on_lost_;

  mutable Mutex mu_;  // Serializes writers, so revisions are followed.
  int64_t known_revision_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_HWM_STORE_H_
