#include "src/lease/cluster_view.h"

#include <utility>

#include "absl/status/statusor.h"

namespace snowflake {

int64_t ClusterSnapshot::HeldIn(const WorkerRange& range) const {
  int64_t held = 0;
  for (const auto& [id, worker] : workers) {
    if (worker.holder && range.Contains(id)) ++held;
  }
  return held;
}

ClusterSnapshot MakeClusterSnapshot(std::optional<std::string> config,
                                    std::vector<StoredEntry> workers,
                                    const std::vector<StoredEntry>& hwms) {
  ClusterSnapshot snapshot;
  snapshot.config = std::move(config);
  for (StoredEntry& entry : workers) {
    const std::optional<int64_t> id = cluster_schema::IdOfKey(entry.key);
    if (!id) continue;
    ClusterWorker& worker = snapshot.workers[*id];
    worker.worker_id = *id;
    worker.lease = std::move(entry.lease);
    worker.lease_left_seconds = entry.lease_left_seconds;
    worker.lease_error = std::move(entry.lease_error);
    absl::StatusOr<cluster_schema::Holder> holder =
        cluster_schema::DecodeHolder(entry.value);
    if (holder.ok()) {
      worker.holder = *std::move(holder);
    } else {
      worker.holder = cluster_schema::Holder{};
      worker.bad_entry = std::move(entry.value);
    }
  }
  for (const StoredEntry& entry : hwms) {
    const std::optional<int64_t> id = cluster_schema::IdOfKey(entry.key);
    if (!id) continue;
    absl::StatusOr<int64_t> millis = cluster_schema::DecodeHwm(entry.value);
    if (!millis.ok()) continue;
    ClusterWorker& worker = snapshot.workers[*id];
    worker.worker_id = *id;
    worker.hwm_millis = *millis;
  }
  return snapshot;
}

}  // namespace snowflake
