#include "src/server/node.h"

#include <unistd.h>

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

Node::Node(NodeOptions options, std::unique_ptr<Clock> clock,
           std::unique_ptr<WorkerLease> lease)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      lease_(std::move(lease)),
      start_unix_millis_(SystemClock().NowMicros() / 1000) {}

Node::~Node() {
  // Best effort for callers that forgot Shutdown (tests, failed starts).
  (void)Shutdown();
}

absl::Status Node::Start() {
  if (generator() != nullptr) return absl::OkStatus();
  // A coordinator that is briefly unreachable (an election, a slow member)
  // is retried for a while; every other error is final.
  constexpr auto kRetryFor = std::chrono::seconds(10);
  constexpr auto kRetryEvery = std::chrono::milliseconds(500);
  const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
  for (;;) {
    absl::Status s = StartGeneration();
    if (s.ok()) break;
    const bool transient = (s.code() == absl::StatusCode::kUnavailable ||
                            s.code() == absl::StatusCode::kDeadlineExceeded) &&
                           GetErrorKind(s) == ErrorKind::kNone;
    if (!transient || std::chrono::steady_clock::now() >= give_up ||
        shutting_down_.load()) {
      return s;
    }
    spdlog::warn("event=start_retry error=\"{}\"", s.ToString());
    std::this_thread::sleep_for(kRetryEvery);
  }
  supervisor_ = std::thread([this] { Supervise(); });
  return absl::OkStatus();
}

absl::Status Node::StartGeneration() {
  auto grant = lease_->Acquire();
  if (!grant.ok()) return grant.status();
  const int64_t wait_start = clock_->NowMicros();
  auto first_tick = AwaitHighWaterMark(*grant->hwm_store, layout(), *clock_,
                                       options_.max_start_wait_millis);
  if (!first_tick.ok()) return first_tick.status();
  start_wait_millis_.store((clock_->NowMicros() - wait_start) / 1000);

  GeneratorOptions gen_options = options_.generator;
  gen_options.worker_id = grant->worker_id;
  gen_options.first_tick = *first_tick;
  // Nothing may be issued until the keeper has stored the first mark.
  gen_options.high_water_mark = *first_tick;
  auto generator = Generator::Create(gen_options, *clock_);
  if (!generator.ok()) return generator.status();

  HwmKeeperOptions keeper_options;
  keeper_options.reserve_millis = options_.hwm_reserve_millis;
  auto keeper =
      HwmKeeper::Start(**generator, *grant->hwm_store, *clock_, keeper_options);
  if (!keeper.ok()) return keeper.status();
  generator_ = *std::move(generator);
  keeper_ = *std::move(keeper);
  keeper_ptr_.store(keeper_.get(), std::memory_order_release);
  generator_ptr_.store(generator_.get(), std::memory_order_release);
  return absl::OkStatus();
}

void Node::RetireGeneration() {
  generator_ptr_.store(nullptr, std::memory_order_release);
  keeper_ptr_.store(nullptr, std::memory_order_release);
  if (generator_ == nullptr) return;
  // Stop first: once Stop returns, no call in flight can still issue.
  generator_->Stop();
  keeper_.reset();  // Its thread ends; the lost lease's store is not used.
  retired_generators_.push_back(std::move(generator_));
}

void Node::LogLeaseChanges() {
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
          "(503) until the lease is renewed or acquired again\"",
          info.worker_id,
          lease_->Lost() ? "lease lost" : "fencing deadline passed");
    }
    logged_lease_valid_ = valid;
  }
}

void Node::Supervise() {
  constexpr auto kPoll = std::chrono::milliseconds(50);
  constexpr auto kRetry = std::chrono::milliseconds(500);
  for (;;) {
    {
      MutexLock lock(&supervisor_mu_);
      if (!stop_supervisor_) supervisor_wake_.WaitFor(&supervisor_mu_, kPoll);
      if (stop_supervisor_) return;
    }
    LogLeaseChanges();
    if (!lease_->Lost()) continue;
    const int64_t old_worker = generator_ ? generator_->worker_id() : -1;
    RetireGeneration();
    spdlog::error(
        "event=lease_lost worker_id={} action=\"stopped issuing; acquiring "
        "again\"",
        old_worker);
    for (;;) {
      {
        MutexLock lock(&supervisor_mu_);
        if (stop_supervisor_) return;
      }
      absl::Status s = StartGeneration();
      if (s.ok()) {
        spdlog::info("event=lease_reacquired worker_id={} previous={}",
                     generator_->worker_id(), old_worker);
        break;
      }
      spdlog::warn("event=reacquire_failed error=\"{}\"", s.ToString());
      MutexLock lock(&supervisor_mu_);
      if (!stop_supervisor_) supervisor_wake_.WaitFor(&supervisor_mu_, kRetry);
    }
  }
}

void Node::BeginShutdown() {
  shutting_down_.store(true, std::memory_order_release);
}

absl::Status Node::Shutdown() {
  BeginShutdown();
  {
    MutexLock lock(&supervisor_mu_);
    stop_supervisor_ = true;
    supervisor_wake_.SignalAll();
  }
  if (supervisor_.joinable()) supervisor_.join();
  absl::Status result;
  if (HwmKeeper* keeper = keeper_ptr_.load(std::memory_order_acquire)) {
    result.Update(keeper->Shutdown());
  } else if (Generator* generator = this->generator()) {
    generator->Stop();
  }
  result.Update(lease_->Release());
  return result;
}

bool Node::Ready() const { return CheckCanIssue().ok(); }

absl::Status Node::CheckCanIssue() const {
  if (shutting_down_.load(std::memory_order_acquire)) {
    return absl::UnavailableError("node is shutting down");
  }
  if (generator() == nullptr) {
    return absl::UnavailableError(
        "node is starting: acquiring its worker ID or waiting for the clock "
        "to pass the stored high-water mark");
  }
  if (!lease_->Valid()) {
    return absl::UnavailableError("node does not hold a valid worker lease");
  }
  return absl::OkStatus();
}

NodeStatus Node::Status() const {
  NodeStatus status;
  status.name = options_.name.empty() ? HostName() : options_.name;
  status.region = options_.region;
  status.clock_source = options_.clock_source;
  status.layout = layout();
  const absl::Status can_issue = CheckCanIssue();
  status.ready = can_issue.ok();
  status.not_ready_reason = std::string(can_issue.message());
  status.shutting_down = shutting_down_.load(std::memory_order_acquire);
  status.lease = lease_->Info();
  if (Generator* generator = this->generator()) {
    status.started = true;
    status.generator = generator->stats();
    status.high_water_mark_tick = generator->high_water_mark();
    status.next_free_tick = generator->NextFreeTick();
  }
  if (HwmKeeper* keeper = keeper_ptr_.load(std::memory_order_acquire)) {
    status.hwm = keeper->stats();
  }
  status.now_micros = clock_->NowMicros();
  status.clock_gap_micros = clock_->GapToWallMicros();
  status.start_unix_millis = start_unix_millis_;
  status.start_wait_millis = start_wait_millis_.load();
  status.kernel_clock = ReadKernelClock();
  return status;
}

}  // namespace snowflake
