// One worker ID a node holds (docs/operations.md, "Several workers per
// node"): its lease, the generation issuing under it, and the supervisor
// that acquires it again once it is lost. A node holds one Worker per
// --workers; each is leased and fenced on its own, exactly as a node with
// one worker ID.
#ifndef SNOWFLAKE_SRC_SERVER_WORKER_H_
#define SNOWFLAKE_SRC_SERVER_WORKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "snowflake/clock.h"
#include "snowflake/generator.h"
#include "snowflake/layout.h"
#include "src/base/mutex.h"
#include "src/core/hwm.h"
#include "src/lease/worker_lease.h"

namespace snowflake {

struct NodeOptions;

// Sleeps up to `millis`; false if `stopping` turned true meanwhile.
bool SleepUnlessStopping(const std::atomic<bool>& stopping, int64_t millis);

// One claim's worth of issuing: the generator under one worker ID and the
// keeper of its HWM, created and retired together. The keeper is declared
// last so that it is destroyed first (it refers to the generator).
struct Generation {
  std::unique_ptr<Generator> generator;
  std::unique_ptr<HwmKeeper> keeper;
};

// One worker's part of NodeStatus, read at one moment.
struct WorkerStatus {
  bool started = false;  // A generation is issuing (or refusing at its HWM).
  LeaseInfo lease;
  GeneratorStats generator;
  int64_t high_water_mark_tick = 0;  // Exclusive bound; 0 before start.
  int64_t next_free_tick = 0;
  HwmKeeperStats hwm;
  int64_t start_wait_millis = 0;  // Waited for the stored HWM at start.
};

// Thread safety: generation(), CanIssue(), CheckReady(), StillIssuing() and
// Status() may be called from any thread at any time; the rest from the
// node's controlling thread (Start, Shutdown) or the worker's own
// supervisor. Not copyable.
class Worker {
 public:
  // `options`, `clock` and `stopping` must outlive the worker; `stopping`
  // turns true when the node begins to shut down. `slot` numbers the worker
  // in its node (0 for the first), for the logs.
  Worker(int slot, const NodeOptions& options, Clock& clock,
         std::unique_ptr<WorkerLease> lease, const std::atomic<bool>& stopping);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Acquires the lease, waits for the clock to pass the stored HWM, creates
  // the generator and starts keeping its HWM ahead. Blocks. Errors: the
  // lease's, AwaitHighWaterMark's, Generator::Create's, the first HWM
  // store's.
  absl::Status StartGeneration();
  // Starts the supervisor: it acquires again once the lease is lost (or,
  // when StartGeneration never succeeded, until it does, retrying every
  // `retry_millis`), and switches worker IDs when the clock is far behind.
  void Supervise(int64_t retry_millis);
  // Stops the supervisor, stores the final HWM and releases the lease.
  // Returns the first error met (all steps are attempted). Idempotent.
  absl::Status Shutdown();

  // The current generation; null before StartGeneration succeeds and while
  // a lost worker ID is acquired again. What a caller holds stays alive (a
  // retired generation's generator refuses) and is freed by the last
  // holder.
  std::shared_ptr<const Generation> generation() const {
    MutexLock lock(&generation_mu_);
    return generation_;
  }
  // True when a generation is published under a valid lease: IDs may be
  // taken from it (the generator itself refuses at its HWM). One atomic
  // load and the lease's Valid().
  bool CanIssue() const {
    return current_.load(std::memory_order_acquire) != nullptr &&
           lease_->Valid();
  }
  // OK if this worker may issue now, else kUnavailable saying why
  // (starting, lost, clock behind, HWM run out, layout's range).
  absl::Status CheckReady() const;
  // True if `generation` is still this worker's current one under a valid
  // lease.
  bool StillIssuing(const Generation& generation) const {
    return &generation == current_.load(std::memory_order_acquire) &&
           lease_->Valid();
  }
  WorkerStatus Status() const;
  // The lease's Lost(): the claim is gone until acquired again.
  bool Lost() const { return lease_->Lost(); }
  int slot() const { return slot_; }

 private:
  const Layout& layout() const;
  void Run(int64_t retry_millis);
  // Publishes and retires the current generation (held under the lock, so
  // a reader's copy keeps it alive). Replaced only by the supervisor thread
  // (or StartGeneration before it runs). `current_` is the same pointer,
  // for checks that compare it or test it for null without taking the
  // lock; it is never dereferenced. (Not std::atomic<std::shared_ptr>:
  // libstdc++ 12's releases its lock relaxed after a load, which
  // ThreadSanitizer reports.)
  void Publish(std::shared_ptr<const Generation> generation);
  // Stops and unpublishes the current generation; requests and status
  // readers in flight may still hold it.
  void RetireGeneration();
  // True when the current worker ID should be given up for another: the
  // clock is further behind its last ID than switch_worker_behind_millis
  // and the range has another free ID (as last counted).
  bool ShouldSwitchWorker();
  // Retires the current generation and acquires again until it succeeds
  // or shutdown begins (supervisor thread only); `release`: give the claim
  // back first (it is still held). A failure is logged when it first
  // happens and when its message changes.
  void Reacquire(bool release, int64_t retry_millis);
  // Logs when the lease turns invalid or valid and the coordinator down or
  // up (supervisor thread only).
  void LogLeaseChanges();
  // Logs the current keeper's failed HWM stores (the first at once, then at
  // most one line per kHwmFailureLogEvery, with the count) and, after a
  // logged failure, the first store that succeeds again (supervisor thread
  // only).
  void LogHwmStoreChanges();

  const int slot_;
  const NodeOptions& options_;
  Clock& clock_;
  const std::unique_ptr<WorkerLease> lease_;
  const std::atomic<bool>& stopping_;

  mutable Mutex generation_mu_;
  std::shared_ptr<const Generation> generation_ ABSL_GUARDED_BY(generation_mu_);
  std::atomic<const Generation*> current_{nullptr};
  // The last retired generator's worker ID and next free tick (-1: none).
  int64_t retired_worker_ = -1;
  int64_t retired_next_free_tick_ = 0;
  // The worker ID a switch was last refused for (no free ID), so that it
  // is logged once (supervisor thread only).
  int64_t switch_refused_worker_ = -1;
  std::atomic<int64_t> start_wait_millis_{0};

  Mutex supervisor_mu_;
  CondVar supervisor_wake_;
  bool stop_supervisor_ ABSL_GUARDED_BY(supervisor_mu_) = false;
  // What LogLeaseChanges last reported (supervisor thread only).
  bool logged_lease_valid_ = true;
  bool logged_coordinator_up_ = true;
  bool logged_presumed_expired_ = false;
  // What LogHwmStoreChanges last saw (supervisor thread only): whose stats,
  // its failure count, whether it is failing and that was logged, when it
  // last logged a failure.
  std::shared_ptr<const Generation> logged_generation_;
  uint64_t logged_store_failures_ = 0;
  uint64_t failures_at_last_log_ = 0;
  bool hwm_store_failing_ = false;
  bool hwm_failure_logged_ = false;
  std::chrono::steady_clock::time_point last_failure_log_;
  std::thread supervisor_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_WORKER_H_
