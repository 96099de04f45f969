// A generator node's runtime state: its lease, clock, generator and HWM
// keeper, and whether it may issue IDs. The HTTP handler and metrics read
// it; the daemon drives its lifecycle (Start, BeginShutdown, Shutdown).
#ifndef SNOWFLAKE_SRC_SERVER_NODE_H_
#define SNOWFLAKE_SRC_SERVER_NODE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "snowflake/generator.h"
#include "snowflake/layout.h"
#include "src/base/mutex.h"
#include "src/core/hwm.h"
#include "src/lease/worker_lease.h"
#include "src/server/kernel_clock.h"
#include "src/server/limits.h"

namespace snowflake {

// This machine's host name ("unknown" if it cannot be read): the default
// node name.
std::string HostName();

struct NodeOptions {
  std::string name;     // For /v1/info; the host name if empty.
  std::string region;   // Free text for /v1/info.
  std::string cluster;  // For the worker gauge's labels.
  std::string clock_source = limits::kDefaultClockSource;
  // Layout, tolerance, borrow and sequence start; worker_id and the tick
  // bounds are filled in from the lease.
  GeneratorOptions generator;
  // How far ahead of the clock the HWM is stored (the outage budget in
  // coordinator modes), and how often it is raised (0: half of that).
  int64_t hwm_reserve_millis = limits::kDefaultHwmReserveMillis;
  int64_t hwm_write_interval_millis = 0;
  int64_t max_start_wait_millis = limits::kDefaultMaxStartWaitMillis;
  // How long Start keeps retrying a coordinator that cannot be reached (or
  // a range with no free ID); 0: for ever.
  int64_t start_timeout_millis = 0;
  // Coordinator modes: once the clock is further behind the last issued ID
  // than this (stepped back, or back from a step forward), the node gives
  // its worker ID up (the stored HWM keeps fencing it) and claims the free
  // one it can start soonest, instead of refusing until the clock catches
  // up. 0: never (static mode: the configured ID is the only one).
  int64_t switch_worker_behind_millis = 0;
};

// Everything /v1/info and /metrics show, read at one moment.
struct NodeStatus {
  std::string name;
  std::string region;
  std::string cluster;
  std::string clock_source;
  Layout layout;
  bool started = false;  // Generator running.
  bool ready = false;    // Started, lease valid, HWM headroom, not stopping.
  bool shutting_down = false;
  std::string not_ready_reason;  // Empty when ready.
  LeaseInfo lease;
  GeneratorStats generator;
  int64_t high_water_mark_tick = 0;  // Exclusive bound; 0 before start.
  int64_t next_free_tick = 0;
  HwmKeeperStats hwm;
  int64_t now_micros = 0;          // Node's clock.
  int64_t clock_gap_micros = 0;    // Node's clock minus the wall clock.
  int64_t start_unix_millis = 0;   // Process start.
  int64_t start_wait_millis = 0;   // Waited for the stored HWM at start.
  int64_t hwm_reserve_millis = 0;  // How far ahead the HWM is kept.
  KernelClockState kernel_clock;
};

// One claim's worth of issuing: the generator under one worker ID and the
// keeper of its HWM, created and retired together. The keeper is declared
// last so that it is destroyed first (it refers to the generator).
struct Generation {
  std::unique_ptr<Generator> generator;
  std::unique_ptr<HwmKeeper> keeper;
};

// Thread safety: Status(), Ready(), generation() and CheckCanIssue() may be
// called from any thread at any time; Start, BeginShutdown and Shutdown
// from one controlling thread. Not copyable.
class Node {
 public:
  Node(NodeOptions options, std::unique_ptr<Clock> clock,
       std::unique_ptr<WorkerLease> lease);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Acquires the lease, waits for the clock to pass the stored HWM, creates
  // the generator and starts keeping its HWM ahead. Blocks; a coordinator
  // that cannot be reached, or a range with no free ID, is retried (logged)
  // until start_timeout_millis. Errors: the lease's, AwaitHighWaterMark's
  // (kUnavailable with the gap when the clock is too far behind),
  // Generator::Create's, the first HWM store's.
  //
  // Then watches the lease: once it is lost, the generator is stopped
  // (nothing more is issued under the old worker ID) and the node acquires
  // again, possibly another worker ID, and switches to a new generator.
  absl::Status Start();

  // Makes Ready() false at once; IDs may still be issued by requests in
  // flight until Shutdown.
  void BeginShutdown();

  // Stops the generator, stores the final HWM and releases the lease.
  // Idempotent. Returns the first error met (all steps are attempted).
  absl::Status Shutdown();

  bool Ready() const { return CheckReady().ok(); }
  // OK if IDs may be issued now, else kUnavailable saying why. Cheap: the
  // generator itself refuses at its HWM.
  absl::Status CheckCanIssue() const;
  // CheckCanIssue, and the HWM not run out: what /readyz answers.
  absl::Status CheckReady() const;
  // After IDs were taken from `generation`: true if it is still the
  // current one under a valid lease. Otherwise the caller drops them (they
  // are never issued again) and answers 503.
  bool StillIssuing(const Generation& generation) const;
  // The current generation; null before Start succeeds and while the node
  // re-acquires a lost worker ID. What a caller holds stays alive (a
  // retired generation's generator refuses) and is freed by the last
  // holder.
  std::shared_ptr<const Generation> generation() const {
    MutexLock lock(&generation_mu_);
    return generation_;
  }
  const Layout& layout() const { return options_.generator.layout; }
  Clock& clock() const { return *clock_; }
  NodeStatus Status() const;

 private:
  const NodeOptions options_;
  const std::unique_ptr<Clock> clock_;
  const std::unique_ptr<WorkerLease> lease_;
  const int64_t start_unix_millis_;

  // Builds and publishes a generator under a freshly acquired lease.
  absl::Status StartGeneration();
  // Stops and unpublishes the current generation; requests and status
  // readers in flight may still hold it.
  void RetireGeneration();
  // Sleeps up to `millis`; false if shutdown began meanwhile.
  bool WaitUnlessStopping(int64_t millis);
  // Re-acquires after a lost lease, or gives up a worker ID the clock is
  // far behind (switch_worker_behind_millis), until it succeeds or
  // shutdown begins.
  void Supervise();
  // True when the current worker ID should be given up for another: the
  // clock is further behind its last ID than switch_worker_behind_millis
  // and the range has another free ID (as last counted).
  bool ShouldSwitchWorker();
  // Retires the current generation and acquires again until it succeeds
  // or shutdown begins (supervisor thread only); `release`: give the claim
  // back first (it is still held).
  void Reacquire(bool release);
  // Logs when the lease turns invalid or valid and the coordinator down or
  // up (supervisor thread only).
  void LogLeaseChanges();
  // Logs the current keeper's failed HWM stores (the first at once, then at
  // most one line per kHwmFailureLogEvery, with the count) and, after a
  // logged failure, the first store that succeeds again (supervisor thread
  // only).
  void LogHwmStoreChanges();

  // Publishes and retires the current generation (held under the lock, so
  // a reader's copy keeps it alive). Replaced only by the supervisor thread
  // (or Start before it runs). `current_` is the same pointer, for checks
  // that compare it or test it for null without taking the lock; it is
  // never dereferenced. (Not std::atomic<std::shared_ptr>: libstdc++ 12's
  // releases its lock relaxed after a load, which ThreadSanitizer reports.)
  void Publish(std::shared_ptr<const Generation> generation);
  mutable Mutex generation_mu_;
  std::shared_ptr<const Generation> generation_ ABSL_GUARDED_BY(generation_mu_);
  std::atomic<const Generation*> current_{nullptr};
  // The last retired generator's worker ID and next free tick (-1: none).
  int64_t retired_worker_ = -1;
  int64_t retired_next_free_tick_ = 0;
  // The worker ID a switch was last refused for (no free ID), so that it
  // is logged once (supervisor thread only).
  int64_t switch_refused_worker_ = -1;
  std::atomic<bool> shutting_down_{false};
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

#endif  // SNOWFLAKE_SRC_SERVER_NODE_H_
