// Worker leases (docs/operations.md): how a node comes to hold a worker ID and
// where that ID's high-water mark lives. `static` takes the ID from the
// configuration; `etcd` and `zookeeper` (later) claim one on a coordinator.
#ifndef SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "src/core/hwm.h"

namespace snowflake {

// What Acquire hands over: the worker ID and the store of its high-water
// mark. The stores are owned by the lease and stay valid until it is
// destroyed.
struct LeaseGrant {
  int64_t worker_id = 0;
  // Where the mark lives: the coordinator's, under the local floor of the
  // state directory (static mode: the local file alone).
  HwmStore* hwm_store = nullptr;
  // The coordinator's mark alone; null in static mode. A node that
  // re-acquires the ID it held in this very process knows its own issued
  // IDs better than its local floor and waits only past this one.
  HwmStore* coordinator_store = nullptr;
  // Wait this long before issuing (taking over an ID with history).
  int64_t takeover_wait_millis = 0;
  // The stored mark is still the last one this process wrote for this ID:
  // nobody held it since, so the node may go on right above its own last
  // issued ID.
  bool own_mark = false;
};

// A snapshot for /v1/info and metrics.
struct LeaseInfo {
  std::string mode;        // "static", "etcd", "zookeeper".
  bool held = false;       // Acquired and not released or lost.
  int64_t worker_id = -1;  // -1 before Acquire.
  std::string hwm_store;   // HwmStore::Describe().
  // Milliseconds until the lease is presumed expired unless renewed; -1 if
  // it never expires (static mode).
  int64_t expires_in_millis = -1;
  // The fencing deadline passed without a renewal (the coordinator is
  // unreachable): the node goes on issuing below its stored HWM only.
  bool presumed_expired = false;
  // Why the claim was lost (empty while held).
  std::string lost_reason;
  uint64_t claims_lost = 0;  // Times the coordinator said the claim was gone.
  // Whether the last call to the coordinator succeeded (always true for
  // static mode).
  bool coordinator_up = true;
  uint64_t renew_failures = 0;     // Keep-alives that failed.
  uint64_t acquire_conflicts = 0;  // Claims lost to another node.
  uint64_t acquisitions = 0;       // Successful Acquire calls.
  // The session's TTL as granted; -1 without a coordinator.
  int64_t ttl_millis = -1;
  // The worker IDs this node may claim (its range), and how many of them no
  // node held when the coordinator was last listed (about every 10 s); -1
  // without a coordinator, or before the first list.
  int64_t range_size = -1;
  int64_t range_free = -1;
};

// The interface every coordination mode implements. The daemon calls
// Acquire once at start, asks Valid() before and after it issues (the
// coordinator may say at any moment that the claim is gone), and Release on
// graceful shutdown, after the generator has stopped and its final
// high-water mark has been stored.
//
// Unreachable is not lost: while the coordinator cannot be reached, Valid()
// stays true and the node issues below its stored HWM, which is the fence
// between holders of an ID. Lost is lost: once the coordinator says the
// claim is gone, Valid() is false for good and the daemon acquires again.
//
// Thread safety: Valid() and Info() may be called from any thread at any
// time; Acquire and Release from one thread. Not copyable.
class WorkerLease {
 public:
  WorkerLease() = default;
  virtual ~WorkerLease() = default;
  WorkerLease(const WorkerLease&) = delete;
  WorkerLease& operator=(const WorkerLease&) = delete;

  // Claims a worker ID; after Lost(), claims one again (the previous grant's
  // store is then invalid). Blocks while contacting the coordinator, if any.
  // Errors: kInvalidArgument for a bad configuration, kUnavailable when the
  // coordinator cannot be reached, kResourceExhausted when no ID is free,
  // and the HWM store's errors.
  virtual absl::StatusOr<LeaseGrant> Acquire() = 0;

  // True while IDs may be issued under the grant (below its HWM). Cheap
  // enough to call before every issue: one atomic load.
  virtual bool Valid() const = 0;

  // True once the grant can never become valid again (the coordinator said
  // the claim is gone, or answered from an older snapshot): the daemon must
  // stop the generator and call Acquire again, which may yield another ID.
  virtual bool Lost() const { return false; }

  // Gives the worker ID back (revokes the coordinator lease). Idempotent.
  virtual absl::Status Release() = 0;

  virtual LeaseInfo Info() const = 0;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_
