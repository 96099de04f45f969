// A generator node's runtime state: its workers (each a lease, generator
// and HWM keeper), its clock, and whether it may issue IDs. The HTTP handler
// and metrics read it; the daemon drives its lifecycle (Start, BeginShutdown,
// Shutdown).
#ifndef SNOWFLAKE_SRC_SERVER_NODE_H_
#define SNOWFLAKE_SRC_SERVER_NODE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "snowflake/generator.h"
#include "snowflake/layout.h"
#include "src/core/hwm.h"
#include "src/lease/worker_lease.h"
#include "src/server/kernel_clock.h"
#include "src/server/limits.h"
#include "src/server/worker.h"

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

// Everything /v1/info and /metrics show, read at one moment. With several
// workers, `lease`, `generator`, `hwm` and the ticks sum or take the worst
// of the workers' (NodeStatus::Combine says how); `workers` has each one.
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
  // One per worker the node was asked to hold, in slot order; those not
  // started hold no ID yet (the range was full, or it is being acquired).
  std::vector<WorkerStatus> workers;
  int workers_held = 0;  // Of those, how many issue now.

  // Fills the combined fields from `workers`: counters summed; the lease's
  // time left, the HWM bound and the stored mark the soonest of the
  // started workers'; the worker ID the first started worker's; the
  // coordinator up only if it is for every worker.
  void Combine();
};

// Thread safety: Status(), Ready(), generation() and CheckCanIssue() may be
// called from any thread at any time; Start, BeginShutdown and Shutdown
// from one controlling thread. Not copyable.
class Node {
 public:
  // One worker per lease (--workers), in slot order; at least one.
  Node(NodeOptions options, std::unique_ptr<Clock> clock,
       std::vector<std::unique_ptr<WorkerLease>> leases);
  Node(NodeOptions options, std::unique_ptr<Clock> clock,
       std::unique_ptr<WorkerLease> lease);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts every worker in slot order: acquires its lease, waits for the
  // clock to pass the stored HWM, creates the generator and starts keeping
  // its HWM ahead. Blocks until at least one worker issues; a coordinator
  // that cannot be reached, or a range with no free ID, is retried (logged)
  // until start_timeout_millis. A worker that could not start while another
  // did (a range with fewer free IDs than --workers) is logged and
  // acquired from its supervisor; the node serves with what it holds.
  // Errors: the lease's, AwaitHighWaterMark's (kUnavailable with the gap
  // when the clock is too far behind), Generator::Create's, the first HWM
  // store's.
  //
  // Then each worker watches its lease: once it is lost, its generator is
  // stopped (nothing more is issued under the old worker ID) and it
  // acquires again, possibly another worker ID.
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
  // The generation this thread issues from: its own worker's (see
  // BindThreadToWorker) if that may issue, else the next worker's that
  // may; null when no worker holds one (before Start succeeds, while lost
  // IDs are acquired again). What a caller holds stays alive (a retired
  // generation's generator refuses) and is freed by the last holder.
  std::shared_ptr<const Generation> generation() const;
  // What a request issues from: generation() when the node is not shutting
  // down and it is not null, else CheckCanIssue()'s reason (kUnavailable).
  // One pass over the workers when the node can issue.
  absl::StatusOr<std::shared_ptr<const Generation>> IssuingGeneration() const;
  // Makes the calling thread issue from worker `index` modulo the number
  // of workers (an I/O thread calls it with its own number, so that each
  // I/O thread has a generator of its own). A thread that never calls it
  // is given the next worker in turn on its first issue.
  static void BindThreadToWorker(int index);
  const Layout& layout() const { return options_.generator.layout; }
  Clock& clock() const { return *clock_; }
  NodeStatus Status() const;
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  // The worker the calling thread issues from first.
  size_t ThisThreadsWorker() const;

  const NodeOptions options_;
  const std::unique_ptr<Clock> clock_;
  const int64_t start_unix_millis_;
  std::atomic<bool> shutting_down_{false};
  // Declared after what they refer to (options, clock, the stop flag), so
  // that they are destroyed first.
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_NODE_H_
