// Worker leases (DESIGN section 5): how a node comes to hold a worker ID and
// where that ID's high-water mark lives. `static` takes the ID from the
// configuration; `etcd` and `zookeeper` (later) claim one on a coordinator.
#ifndef SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_
#define SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "snowflake/hwm.h"

namespace snowflake {

// What Acquire hands over: the worker ID and the store of its high-water
// mark. The store is owned by the lease and stays valid until Release.
struct LeaseGrant {
  int64_t worker_id = 0;
  HwmStore* hwm_store = nullptr;
};

// A snapshot for /v1/info and metrics.
struct LeaseInfo {
  std::string mode;        // "static", "etcd", "zookeeper".
  bool held = false;       // Acquired and not released or lost.
  int64_t worker_id = -1;  // -1 before Acquire.
  std::string hwm_store;   // HwmStore::Describe().
  // Milliseconds until the lease must be renewed or issuing stops; -1 if it
  // never expires (static mode).
  int64_t expires_in_millis = -1;
  // Whether the last call to the coordinator succeeded (always true for
  // static mode).
  bool coordinator_up = true;
  uint64_t renew_failures = 0;     // Keep-alives that failed.
  uint64_t acquire_conflicts = 0;  // Claims lost to another node.
  uint64_t acquisitions = 0;       // Successful Acquire calls.
};

// The interface every coordination mode implements. The daemon calls
// Acquire once at start, asks Valid() before it issues (a coordinator lease
// may be lost or may expire while the process is paused), and Release on
// graceful shutdown, after the generator has stopped and its final
// high-water mark has been stored.
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

  // True while IDs may be issued under the grant. Cheap enough to call
  // before every issue: a relaxed atomic load and a clock read at most.
  virtual bool Valid() const = 0;

  // True once the grant can never become valid again (the coordinator said
  // the lease is gone, or its fencing deadline passed): the daemon must stop
  // the generator and call Acquire again, which may yield another worker ID.
  virtual bool Lost() const { return false; }

  // Gives the worker ID back (revokes the coordinator lease). Idempotent.
  virtual absl::Status Release() = 0;

  virtual LeaseInfo Info() const = 0;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_
