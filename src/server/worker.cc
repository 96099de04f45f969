#include "src/server/worker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "snowflake/status.h"
#include "spdlog/spdlog.h"
#include "src/server/node.h"

namespace snowflake {
namespace {

// How often a lost worker ID is claimed again.
constexpr int64_t kReacquireEvery = 500;

}  // namespace

Worker::Worker(int slot, const NodeOptions& options, Clock& clock,
               std::unique_ptr<WorkerLease> lease,
               const std::atomic<bool>& stopping)
    : slot_(slot),
      options_(options),
      clock_(clock),
      lease_(std::move(lease)),
      stopping_(stopping) {}

Worker::~Worker() {
  // Best effort for callers that forgot Shutdown (tests, failed starts).
  (void)Shutdown();
}

const Layout& Worker::layout() const { return options_.generator.layout; }

bool SleepUnlessStopping(const std::atomic<bool>& stopping, int64_t millis) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
  while (!stopping.load(std::memory_order_acquire)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        until - now, std::chrono::milliseconds(50)));
  }
  return false;
}

absl::Status Worker::StartGeneration() {
  auto grant = lease_->Acquire();
  if (!grant.ok()) return grant.status();
  const int64_t wait_start = clock_.NowMicros();
  if (grant->takeover_wait_millis > 0) {
    // A holder whose claim vanished (a restore, a deleted key) must have
    // learned it and stopped before this node issues under the same ID.
    spdlog::info(
        "event=takeover_wait worker_id={} wait_ms={} reason=\"the ID has "
        "history and was not this node's last\"",
        grant->worker_id, grant->takeover_wait_millis);
    if (!SleepUnlessStopping(stopping_, grant->takeover_wait_millis)) {
      return absl::UnavailableError("node is shutting down");
    }
  }
  absl::StatusOr<int64_t> first_tick;
  const bool same_id = grant->worker_id == retired_worker_;
  if (same_id && grant->own_mark) {
    // Nobody held the ID since this process did: go on right above its own
    // last ID instead of waiting out its own reserve.
    first_tick = retired_next_free_tick_;
  } else if (same_id && grant->coordinator_store != nullptr) {
    // The local floor is this process's own reservation; its own IDs end
    // at retired_next_free_tick_.
    first_tick = AwaitHighWaterMark(*grant->coordinator_store, layout(), clock_,
                                    options_.max_start_wait_millis);
    if (first_tick.ok()) {
      first_tick = std::max(*first_tick, retired_next_free_tick_);
    }
  } else {
    first_tick = AwaitHighWaterMark(*grant->hwm_store, layout(), clock_,
                                    options_.max_start_wait_millis);
  }
  if (!first_tick.ok()) return first_tick.status();
  start_wait_millis_.store((clock_.NowMicros() - wait_start) / 1000);

  GeneratorOptions gen_options = options_.generator;
  gen_options.worker_id = grant->worker_id;
  gen_options.first_tick = *first_tick;
  // Nothing may be issued until the keeper has stored the first mark.
  gen_options.high_water_mark = *first_tick;
  auto generator = Generator::Create(gen_options, clock_);
  if (!generator.ok()) return generator.status();

  HwmKeeperOptions keeper_options;
  keeper_options.reserve_millis = options_.hwm_reserve_millis;
  keeper_options.write_interval_millis = options_.hwm_write_interval_millis;
  auto keeper =
      HwmKeeper::Start(**generator, *grant->hwm_store, clock_, keeper_options);
  if (!keeper.ok()) return keeper.status();
  auto generation = std::make_shared<Generation>();
  generation->generator = *std::move(generator);
  generation->keeper = *std::move(keeper);
  Publish(std::move(generation));
  return absl::OkStatus();
}

void Worker::Publish(std::shared_ptr<const Generation> generation) {
  MutexLock lock(&generation_mu_);
  current_.store(generation.get(), std::memory_order_release);
  generation_ = std::move(generation);
}

void Worker::RetireGeneration() {
  std::shared_ptr<const Generation> retired = generation();
  if (retired == nullptr) return;
  Publish(nullptr);
  // Stop first: once Stop returns, no call in flight can still issue.
  retired_next_free_tick_ = retired->generator->Stop();
  retired_worker_ = retired->generator->worker_id();
  // The keeper's store now belongs to the next holder: store nothing more.
  retired->keeper->Abandon();
}

void Worker::LogLeaseChanges() {
  const bool valid = lease_->Valid();
  const LeaseInfo info = lease_->Info();
  if (info.coordinator_up != logged_coordinator_up_) {
    if (info.coordinator_up) {
      spdlog::info("event=coordinator_up mode={}", info.mode);
    } else {
      spdlog::warn("event=coordinator_down mode={} renew_failures={}",
                   info.mode, info.renew_failures);
    }
    logged_coordinator_up_ = info.coordinator_up;
  }
  if (valid != logged_lease_valid_) {
    if (valid) {
      spdlog::info("event=lease_valid worker_id={} expires_in_ms={}",
                   info.worker_id, info.expires_in_millis);
    } else {
      spdlog::error(
          "event=fenced worker_id={} reason=\"{}\" action=\"not issuing "
          "(503) until a worker ID is acquired again\"",
          info.worker_id, info.lost_reason);
    }
    logged_lease_valid_ = valid;
  }
  if (info.presumed_expired != logged_presumed_expired_) {
    if (info.presumed_expired) {
      spdlog::warn(
          "event=lease_presumed_expired worker_id={} action=\"coordinator "
          "unreachable past the lease deadline; issuing below the stored "
          "high-water mark until it runs out\"",
          info.worker_id);
    }
    logged_presumed_expired_ = info.presumed_expired;
  }
}

void Worker::LogHwmStoreChanges() {
  // Often enough to show a failure goes on, rarely enough that a store
  // failing at every poll (10 a second) does not flood the log.
  constexpr auto kHwmFailureLogEvery = std::chrono::seconds(5);
  std::shared_ptr<const Generation> generation = this->generation();
  if (generation != logged_generation_) {
    // A new generation: its keeper counts from zero.
    logged_generation_ = generation;
    logged_store_failures_ = 0;
    failures_at_last_log_ = 0;
    hwm_store_failing_ = false;
    hwm_failure_logged_ = false;
  }
  if (generation == nullptr) return;
  const HwmKeeperStats stats = generation->keeper->stats();
  const auto now = std::chrono::steady_clock::now();
  if (stats.store_failures > logged_store_failures_) {
    hwm_store_failing_ = true;
    // At most one line per kHwmFailureLogEvery, even for a store that fails
    // and recovers over and over; the next line counts what was skipped.
    if (last_failure_log_ == std::chrono::steady_clock::time_point() ||
        now - last_failure_log_ >= kHwmFailureLogEvery) {
      spdlog::warn(
          "event=hwm_store_failed store=\"{}\" failures={} total_failures={} "
          "stored_unix_ms={} headroom_ms={} error=\"{}\" action=\"retrying "
          "at every poll; IDs go on below the stored mark until the headroom "
          "runs out, then /readyz and /v1/id answer 503: fix the state "
          "store\"",
          lease_->Info().hwm_store,
          stats.store_failures - failures_at_last_log_, stats.store_failures,
          stats.stored_unix_millis,
          stats.stored_unix_millis - clock_.NowMicros() / 1000,
          stats.last_error.empty() ? std::string("(a later store succeeded)")
                                   : stats.last_error);
      last_failure_log_ = now;
      failures_at_last_log_ = stats.store_failures;
      hwm_failure_logged_ = true;
    }
    logged_store_failures_ = stats.store_failures;
  }
  if (hwm_store_failing_ && stats.last_error.empty()) {
    if (hwm_failure_logged_) {
      spdlog::info(
          "event=hwm_store_recovered store=\"{}\" stored_unix_ms={} "
          "total_failures={}",
          lease_->Info().hwm_store, stats.stored_unix_millis,
          stats.store_failures);
    }
    hwm_store_failing_ = false;
    hwm_failure_logged_ = false;
  }
}

void Worker::Supervise(int64_t retry_millis) {
  supervisor_ = std::thread([this, retry_millis] { Run(retry_millis); });
}

void Worker::Run(int64_t retry_millis) {
  constexpr auto kPoll = std::chrono::milliseconds(50);
  // A worker that could not start (its range full, say) acquires from the
  // supervisor; the node serves with its other workers meanwhile.
  if (current_.load(std::memory_order_acquire) == nullptr) {
    Reacquire(/*release=*/false, retry_millis);
  }
  for (;;) {
    {
      MutexLock lock(&supervisor_mu_);
      if (!stop_supervisor_) supervisor_wake_.WaitFor(&supervisor_mu_, kPoll);
      if (stop_supervisor_) return;
    }
    LogLeaseChanges();
    LogHwmStoreChanges();
    if (lease_->Lost()) {
      spdlog::error(
          "event=lease_lost worker_id={} reason=\"{}\" action=\"stopped "
          "issuing; acquiring again\"",
          lease_->Info().worker_id, lease_->Info().lost_reason);
      Reacquire(/*release=*/false, kReacquireEvery);
    } else if (ShouldSwitchWorker()) {
      Reacquire(/*release=*/true, kReacquireEvery);
    }
  }
}

bool Worker::ShouldSwitchWorker() {
  if (options_.switch_worker_behind_millis <= 0) return false;
  const std::shared_ptr<const Generation> current = generation();
  if (current == nullptr) return false;
  const int64_t behind_millis = current->generator->ClockBehindMicros() / 1000;
  if (behind_millis <= options_.switch_worker_behind_millis) return false;
  const LeaseInfo info = lease_->Info();
  const int64_t worker = current->generator->worker_id();
  if (info.range_free == 0) {
    // Nothing to switch to: wait for the clock, as in static mode.
    if (switch_refused_worker_ != worker) {
      switch_refused_worker_ = worker;
      spdlog::error(
          "event=worker_switch_impossible worker_id={} behind_ms={} "
          "action=\"no other worker ID of the range is free; not serving "
          "until the clock catches up (widen the range)\"",
          worker, behind_millis);
    }
    return false;
  }
  switch_refused_worker_ = -1;
  spdlog::error(
      "event=worker_switch worker_id={} behind_ms={} limit_ms={} "
      "action=\"the clock is far behind this worker's last ID (stepped back, "
      "or back from a step forward): giving the ID up, its stored "
      "high-water mark still fences it; claiming the free ID that can start "
      "soonest\"",
      worker, behind_millis, options_.switch_worker_behind_millis);
  return true;
}

void Worker::Reacquire(bool release, int64_t retry_millis) {
  std::shared_ptr<const Generation> current = generation();
  const int64_t old_worker = current ? current->generator->worker_id() : -1;
  current.reset();
  RetireGeneration();
  if (release) {
    if (absl::Status s = lease_->Release(); !s.ok()) {
      // The claim lapses with its session instead.
      spdlog::warn("event=release_failed worker_id={} error=\"{}\"", old_worker,
                   s.ToString());
    }
  }
  std::string logged_error;
  for (;;) {
    {
      MutexLock lock(&supervisor_mu_);
      if (stop_supervisor_) return;
    }
    absl::Status s = StartGeneration();
    if (s.ok()) {
      spdlog::info("event=lease_reacquired slot={} worker_id={} previous={}",
                   slot_, generation()->generator->worker_id(), old_worker);
      return;
    }
    // Once per distinct error: a full range is retried for as long as it
    // stays full.
    if (s.ToString() != logged_error) {
      logged_error = s.ToString();
      spdlog::warn(
          "event=reacquire_failed slot={} error=\"{}\" action=\"retrying "
          "every {} ms\"",
          slot_, logged_error, retry_millis);
    }
    MutexLock lock(&supervisor_mu_);
    if (!stop_supervisor_) {
      supervisor_wake_.WaitFor(&supervisor_mu_,
                               std::chrono::milliseconds(retry_millis));
    }
  }
}

absl::Status Worker::Shutdown() {
  {
    MutexLock lock(&supervisor_mu_);
    stop_supervisor_ = true;
    supervisor_wake_.SignalAll();
  }
  if (supervisor_.joinable()) supervisor_.join();
  absl::Status result;
  // The supervisor has ended: nothing replaces the current generation now.
  if (std::shared_ptr<const Generation> current = generation()) {
    result.Update(current->keeper->Shutdown());
  }
  result.Update(lease_->Release());
  return result;
}

absl::Status Worker::CheckReady() const {
  const std::shared_ptr<const Generation> generation = this->generation();
  if (generation == nullptr) {
    return absl::UnavailableError(
        "acquiring its worker ID or waiting for the clock to pass the stored "
        "high-water mark");
  }
  if (!lease_->Valid()) {
    return absl::UnavailableError(
        "lost its worker ID and is acquiring one again");
  }
  const Generator& generator = *generation->generator;
  const int64_t now_micros = clock_.NowMicros();
  const int64_t now = layout().TickAtMicros(now_micros);
  // What the generator refuses for good, whatever the store does: each
  // needs the operator, so say what to change. Still kUnavailable: for a
  // readiness probe this node is simply not serving.
  if (now < 0) {
    return absl::UnavailableError(absl::StrCat(
        "the clock (", FormatRfc3339Millis(now_micros / 1000),
        ") is before the layout's epoch (",
        FormatRfc3339Millis(layout().epoch_millis()),
        "): no ID can be made; fix the epoch (--epoch) or the clock"));
  }
  if (now > layout().max_tick()) {
    return absl::UnavailableError(absl::StrCat(
        "the layout's time range is used up (it ended at ",
        FormatRfc3339Millis(layout().Limits().end_millis), "; layout ",
        layout().ToString(),
        "): no ID can be made; choose a layout whose range covers the "
        "clock (--layout, --unit-ms, --epoch; `snowflake layout` prints each "
        "layout's range)"));
  }
  if (const int64_t behind = generator.ClockBehindMicros();
      behind > generator.tolerance_micros()) {
    return absl::UnavailableError(absl::StrCat(
        "the clock is ", (behind + 999) / 1000,
        " ms behind the last issued ID (tolerance ",
        generator.tolerance_micros() / 1000,
        " ms): it was stepped back; not serving until it catches up"));
  }
  if (generator.high_water_mark() <= std::max(now, generator.NextFreeTick())) {
    return absl::UnavailableError(
        "the stored high-water mark has run out and cannot be raised (the "
        "coordinator unreachable for longer than the outage budget, or the "
        "state store failing)");
  }
  return absl::OkStatus();
}

WorkerStatus Worker::Status() const {
  WorkerStatus status;
  status.lease = lease_->Info();
  if (std::shared_ptr<const Generation> generation = this->generation()) {
    const Generator& generator = *generation->generator;
    status.started = true;
    status.generator = generator.stats();
    status.high_water_mark_tick = generator.high_water_mark();
    status.next_free_tick = generator.NextFreeTick();
    status.hwm = generation->keeper->stats();
  }
  status.start_wait_millis = start_wait_millis_.load();
  return status;
}

}  // namespace snowflake
