#include "src/server/node.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "snowflake/status.h"
#include "spdlog/spdlog.h"

namespace snowflake {
std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

namespace {

// The next worker for a thread that was not bound to one.
std::atomic<unsigned> next_unbound_worker{0};
// The calling thread's worker index (modulo the node's workers); -1: not
// bound yet.
thread_local int thread_worker = -1;

// How often a worker that could not start (its range full) claims again.
constexpr int64_t kShortWorkerRetryMillis = 5000;

std::vector<std::unique_ptr<WorkerLease>> One(
    std::unique_ptr<WorkerLease> lease) {
  std::vector<std::unique_ptr<WorkerLease>> leases;
  leases.push_back(std::move(lease));
  return leases;
}

}  // namespace

Node::Node(NodeOptions options, std::unique_ptr<Clock> clock,
           std::vector<std::unique_ptr<WorkerLease>> leases)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      start_unix_millis_(SystemClock().NowMicros() / 1000) {
  for (auto& lease : leases) {
    workers_.push_back(
        std::make_unique<Worker>(static_cast<int>(workers_.size()), options_,
                                 *clock_, std::move(lease), shutting_down_));
  }
}

Node::Node(NodeOptions options, std::unique_ptr<Clock> clock,
           std::unique_ptr<WorkerLease> lease)
    : Node(std::move(options), std::move(clock), One(std::move(lease))) {}

Node::~Node() {
  // Best effort for callers that forgot Shutdown (tests, failed starts).
  (void)Shutdown();
}

void Node::BindThreadToWorker(int index) { thread_worker = index; }

size_t Node::ThisThreadsWorker() const {
  if (thread_worker < 0) {
    thread_worker = static_cast<int>(next_unbound_worker.fetch_add(1) & 0xffff);
  }
  return static_cast<size_t>(thread_worker) % workers_.size();
}

absl::Status Node::Start() {
  for (const auto& worker : workers_) {
    if (worker->generation() != nullptr) return absl::OkStatus();
  }
  // A coordinator that cannot be reached yet (not started, an election, a
  // restart) or a range with no free ID is waited for, as a service started
  // by systemd beside its coordinator expects; every other error is final.
  constexpr auto kRetryEvery = std::chrono::milliseconds(1000);
  const auto started = std::chrono::steady_clock::now();
  std::vector<absl::Status> errors(workers_.size());
  for (int attempt = 1;; ++attempt) {
    // In slot order, so that the workers of one node never race each other
    // for the same free ID.
    int held = 0;
    for (size_t i = 0; i < workers_.size(); ++i) {
      errors[i] = workers_[i]->StartGeneration();
      if (!errors[i].ok()) break;  // The next would meet the same.
      ++held;
    }
    if (held > 0) break;
    const absl::Status& s = errors[0];
    const absl::StatusCode code = s.code();
    // A claim lost while starting (deleted during the takeover wait, say)
    // is acquired again like any other.
    const bool transient = ((code == absl::StatusCode::kUnavailable ||
                             code == absl::StatusCode::kDeadlineExceeded ||
                             code == absl::StatusCode::kResourceExhausted ||
                             code == absl::StatusCode::kAborted) &&
                            GetErrorKind(s) == ErrorKind::kNone) ||
                           workers_[0]->Lost();
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (!transient || shutting_down_.load() ||
        (options_.start_timeout_millis > 0 &&
         waited.count() >= options_.start_timeout_millis)) {
      return s;
    }
    spdlog::warn(
        "event=start_retry attempt={} waited_ms={} error=\"{}\" "
        "action=\"not ready; retrying every {} ms{}\"",
        attempt, waited.count(), s.ToString(), kRetryEvery.count(),
        options_.start_timeout_millis > 0
            ? absl::StrCat(" for up to ", options_.start_timeout_millis,
                           " ms (--start-timeout)")
            : std::string(" (no --start-timeout: for ever)"));
    if (!SleepUnlessStopping(shutting_down_, kRetryEvery.count())) return s;
  }
  int held = 0;
  std::string short_error;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i]->generation() != nullptr) {
      ++held;
    } else if (short_error.empty()) {
      short_error =
          errors[i].ok() ? std::string("not attempted") : errors[i].ToString();
    }
  }
  if (held < static_cast<int>(workers_.size())) {
    spdlog::error(
        "event=workers_short held={} wanted={} error=\"{}\" action=\"serving "
        "with {} worker ID(s); claiming the rest every {} ms until they are "
        "free (widen the range or lower --workers)\"",
        held, workers_.size(), short_error, held, kShortWorkerRetryMillis);
  }
  for (const auto& worker : workers_) {
    worker->Supervise(kShortWorkerRetryMillis);
  }
  return absl::OkStatus();
}

void Node::BeginShutdown() {
  shutting_down_.store(true, std::memory_order_release);
}

absl::Status Node::Shutdown() {
  BeginShutdown();
  absl::Status result;
  for (const auto& worker : workers_) result.Update(worker->Shutdown());
  return result;
}

std::shared_ptr<const Generation> Node::generation() const {
  const size_t n = workers_.size();
  const size_t first = ThisThreadsWorker();
  for (size_t i = 0; i < n; ++i) {
    const Worker& worker = *workers_[(first + i) % n];
    if (!worker.CanIssue()) continue;
    if (std::shared_ptr<const Generation> g = worker.generation()) return g;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const Generation>> Node::IssuingGeneration()
    const {
  if (!shutting_down_.load(std::memory_order_acquire)) {
    if (std::shared_ptr<const Generation> g = generation()) return g;
  }
  if (absl::Status s = CheckCanIssue(); !s.ok()) return s;
  // A worker could issue by the time of the check: it was acquiring again.
  return absl::UnavailableError("node is re-acquiring its worker ID");
}

absl::Status Node::CheckCanIssue() const {
  if (shutting_down_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("node is shutting down");
  }
  bool started = false;
  for (const auto& worker : workers_) {
    if (worker->CanIssue()) return absl::OkStatus();
    started = started || worker->generation() != nullptr;
  }
  if (!started) {
    return absl::UnavailableError(
        "node is starting: acquiring its worker ID or waiting for the clock "
        "to pass the stored high-water mark");
  }
  return absl::UnavailableError(
      "node lost its worker ID and is acquiring one again");
}

absl::Status Node::CheckReady() const {
  if (absl::Status s = CheckCanIssue(); !s.ok()) return s;
  absl::Status first;
  for (const auto& worker : workers_) {
    absl::Status s = worker->CheckReady();
    if (s.ok()) return s;
    if (first.ok()) first = s;
  }
  return first;
}

bool Node::StillIssuing(const Generation& generation) const {
  for (const auto& worker : workers_) {
    if (worker->StillIssuing(generation)) return true;
  }
  return false;
}

NodeStatus Node::Status() const {
  NodeStatus status;
  status.name = options_.name.empty() ? HostName() : options_.name;
  status.region = options_.region;
  status.cluster = options_.cluster;
  status.clock_source = options_.clock_source;
  status.layout = layout();
  const absl::Status can_issue = CheckReady();
  status.ready = can_issue.ok();
  status.not_ready_reason = std::string(can_issue.message());
  status.shutting_down = shutting_down_.load(std::memory_order_acquire);
  for (const auto& worker : workers_) {
    status.workers.push_back(worker->Status());
  }
  status.Combine();
  status.now_micros = clock_->NowMicros();
  status.clock_gap_micros = clock_->GapToWallMicros();
  status.start_unix_millis = start_unix_millis_;
  status.hwm_reserve_millis = options_.hwm_reserve_millis;
  status.kernel_clock = ReadKernelClock();
  return status;
}

void NodeStatus::Combine() {
  workers_held = 0;
  started = false;
  generator = GeneratorStats();
  hwm = HwmKeeperStats();
  lease = workers.empty() ? LeaseInfo() : workers.front().lease;
  lease.held = false;
  lease.presumed_expired = false;
  lease.lost_reason.clear();
  lease.claims_lost = lease.renew_failures = lease.acquire_conflicts =
      lease.acquisitions = 0;
  lease.coordinator_up = true;
  high_water_mark_tick = next_free_tick = start_wait_millis = 0;
  bool first_started = true;
  for (const WorkerStatus& w : workers) {
    const LeaseInfo& l = w.lease;
    lease.held = lease.held || l.held;
    lease.presumed_expired = lease.presumed_expired || l.presumed_expired;
    if (lease.lost_reason.empty()) lease.lost_reason = l.lost_reason;
    lease.claims_lost += l.claims_lost;
    lease.renew_failures += l.renew_failures;
    lease.acquire_conflicts += l.acquire_conflicts;
    lease.acquisitions += l.acquisitions;
    lease.coordinator_up = lease.coordinator_up && l.coordinator_up;
    if (l.range_free >= 0) lease.range_free = l.range_free;
    generator.exhausted_waits += w.generator.exhausted_waits;
    generator.backwards_events += w.generator.backwards_events;
    generator.backwards_errors += w.generator.backwards_errors;
    generator.max_drift_millis =
        std::max(generator.max_drift_millis, w.generator.max_drift_millis);
    generator.clock_wait_micros += w.generator.clock_wait_micros;
    generator.high_water_mark_hits += w.generator.high_water_mark_hits;
    hwm.stores += w.hwm.stores;
    hwm.store_failures += w.hwm.store_failures;
    if (hwm.last_error.empty()) hwm.last_error = w.hwm.last_error;
    start_wait_millis = std::max(start_wait_millis, w.start_wait_millis);
    if (!w.started) continue;
    ++workers_held;
    if (first_started) {
      // The soonest of the started workers' bounds, deadlines and marks.
      first_started = false;
      started = true;
      lease.worker_id = l.worker_id;
      lease.hwm_store = l.hwm_store;
      lease.expires_in_millis = l.expires_in_millis;
      high_water_mark_tick = w.high_water_mark_tick;
      next_free_tick = w.next_free_tick;
      hwm.stored_unix_millis = w.hwm.stored_unix_millis;
      continue;
    }
    if (l.expires_in_millis >= 0 &&
        (lease.expires_in_millis < 0 ||
         l.expires_in_millis < lease.expires_in_millis)) {
      lease.expires_in_millis = l.expires_in_millis;
    }
    high_water_mark_tick =
        std::min(high_water_mark_tick, w.high_water_mark_tick);
    next_free_tick = std::max(next_free_tick, w.next_free_tick);
    hwm.stored_unix_millis =
        std::min(hwm.stored_unix_millis, w.hwm.stored_unix_millis);
  }
}

}  // namespace snowflake
