// `snowflake cluster fence-restore`: run after etcd (or ZooKeeper) was
// restored from an older snapshot (docs/operations.md). The restored high-water
// marks may lie below IDs already issued, and claims made after the snapshot
// are gone, so a node could take over a worker ID and issue those IDs again.
// This raises the stored mark of every worker ID of the cluster's range,
// including IDs that never had one, to at least now + outage budget +
// clock-skew bound: past every tick any node can have issued, whatever its
// clock said.
#ifndef SNOWFLAKE_CLI_FENCE_RESTORE_H_
#define SNOWFLAKE_CLI_FENCE_RESTORE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/commands.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/region_map.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::cli {

// Keys written per etcd transaction (its compares and puts each count this
// many; etcd's --max-txn-ops defaults to 128), and per ZooKeeper multi.
inline constexpr int64_t kFenceTxnOps = 100;
// How often one transaction is retried after another writer changed one of
// its keys before fence-restore gives up.
inline constexpr int kFenceMaxAttempts = 20;

// What RaiseHwms does.
struct FencePlan {
  std::string prefix;  // No trailing slash.
  std::string cluster;
  WorkerRange range;
  int64_t target_millis = 0;  // Unix ms every stored mark must reach.
  bool dry_run = false;       // Count only; write nothing.
};

// What RaiseHwms did (or, for a dry run, would do), per worker ID.
struct FenceResult {
  int64_t raised = 0;     // Marks below the target, raised to it.
  int64_t created = 0;    // IDs without a mark, given the target.
  int64_t replaced = 0;   // Marks that were not Unix ms, replaced by it.
  int64_t unchanged = 0;  // Marks already at or above the target.
  int64_t conflicts = 0;  // Transactions retried after another writer.
  int64_t transactions = 0;

  int64_t fenced() const { return raised + created + replaced; }
};

// Raises the mark of every worker ID of `plan.range` below the target to the
// target, by compare-and-set on each key's mod_revision (0: absent), in
// transactions of at most kFenceTxnOps keys. A transaction that fails its
// compares re-reads its keys and retries, so a mark raised meanwhile by a
// node is kept, and no mark is ever lowered. `before_txn` (may be empty) runs
// before each transaction is sent, for tests. Idempotent: running it again
// completes an interrupted run. Errors: those of `client`, with how many IDs
// were fenced so far; kAborted after kFenceMaxAttempts conflicts on one
// transaction.
absl::StatusOr<FenceResult> RaiseHwms(
    etcd::EtcdClient& client, const FencePlan& plan,
    const std::function<void()>& before_txn = nullptr);

// The same on ZooKeeper: compare-and-set on each hwm/<id> znode's version,
// an absent one created (persistent, as the nodes create it; the hwm/
// directory too if missing), in multis of at most kFenceTxnOps operations,
// each all or nothing. A multi that fails on a version or an existence
// (another writer) re-reads its znodes and retries, as above; other errors
// (kPermissionDenied: --zookeeper-auth) end the run.
absl::StatusOr<FenceResult> RaiseHwms(
    zookeeper::ZooKeeperClient& client, const FencePlan& plan,
    const std::function<void()>& before_txn = nullptr);

// The command: checks the flags, reads the cluster's config (it must exist)
// to find the range (the layout's worker IDs unless --worker-range), raises
// the marks to now (`clock`) + outage budget + clock skew and prints what it
// did, as text or JSON. Exit codes: kExitOk; kExitUsage for bad flags;
// kExitBadData when the cluster does not exist or the coordinator (etcd or
// ZooKeeper) fails (one line on the error stream).
int FenceRestore(const ClusterFlags& flags, const FenceRestoreFlags& fence,
                 Clock& clock, Io& io,
                 const std::function<void()>& before_txn = nullptr);

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_FENCE_RESTORE_H_
