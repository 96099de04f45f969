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

  // Claims a worker ID. Blocks while contacting the coordinator, if any.
  // Errors: kInvalidArgument for a bad configuration, kUnavailable when the
  // coordinator cannot be reached, kResourceExhausted when no ID is free,
  // and the HWM store's errors.
  virtual absl::StatusOr<LeaseGrant> Acquire() = 0;

  // True while IDs may be issued under the grant. Cheap enough to call
  // before every issue: a relaxed atomic load and a clock read at most.
  virtual bool Valid() const = 0;

  // Gives the worker ID back (revokes the coordinator lease). Idempotent.
  virtual absl::Status Release() = 0;

  virtual LeaseInfo Info() const = 0;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_WORKER_LEASE_H_
