// A cluster as its coordinator keeps it (the tree of cluster_schema.h, the
// same on etcd and ZooKeeper): every worker ID's holder with its lease, and
// every stored high-water mark. Built here, from the entries a coordinator
// returns, without any I/O; src/client/coordinator_store.h reads them.
// `snowflake cluster` prints a snapshot and the status page shows one
// (docs/operations.md, "The status page"), so both say the same.
#ifndef SNOWFLAKE_SRC_LEASE_CLUSTER_VIEW_H_
#define SNOWFLAKE_SRC_LEASE_CLUSTER_VIEW_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/lease/cluster_schema.h"
#include "src/lease/region_map.h"

namespace snowflake {

// One entry of a workers/ or hwm/ directory.
struct StoredEntry {
  std::string key;  // The whole key (etcd) or path (ZooKeeper).
  std::string value;
  // workers/ entries only, when asked for: what the claim is bound to:
  // etcd's lease ID in decimal, or "session 0x<hex>", the ZooKeeper session
  // that owns the ephemeral znode; "0" when neither (a key without lease, a
  // persistent znode).
  std::string lease = "0";
  // etcd only: the lease's time left, or why it is unknown ("expired", an
  // error). ZooKeeper sessions show no time left to other clients: both
  // stay empty.
  std::optional<int64_t> lease_left_seconds;
  std::string lease_error;
};

// What the cluster keeps for one worker ID.
struct ClusterWorker {
  int64_t worker_id = -1;
  // Absent: free. Present but default when its entry does not parse.
  std::optional<cluster_schema::Holder> holder;
  std::string bad_entry;    // The raw value when it does not parse.
  std::string lease = "0";  // StoredEntry::lease of the workers/ entry.
  std::optional<int64_t> lease_left_seconds;
  std::string lease_error;
  std::optional<int64_t> hwm_millis;  // Its stored high-water mark.
};

struct ClusterSnapshot {
  std::optional<std::string> config;  // Absent: no node has started yet.
  // Every worker ID with a holder or a stored high-water mark, by ID.
  std::map<int64_t, ClusterWorker> workers;

  // How many IDs of `range` have a holder.
  int64_t HeldIn(const WorkerRange& range) const;
};

// The snapshot of a cluster's stored config and the entries of its workers/
// and hwm/ directories. Never fails: entries whose key names no worker ID,
// and marks that do not parse, are left out; a holder that does not parse
// is kept as held, with its raw value in bad_entry.
ClusterSnapshot MakeClusterSnapshot(std::optional<std::string> config,
                                    std::vector<StoredEntry> workers,
                                    const std::vector<StoredEntry>& hwms);

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_CLUSTER_VIEW_H_
