#include "src/client/internal/prefetcher.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "src/base/strings.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;
using std::chrono::milliseconds;

// How long a waiting taker sleeps between looks at its deadline.
constexpr int64_t kMaxWaitMillis = 100;
// After a failed refill, the refill thread rests this long before the next,
// so that a cluster that fails at once is not asked in a tight loop.
constexpr milliseconds kPauseAfterFailure{10};

int64_t CeilMillis(int64_t micros) { return (micros + 999) / 1000; }

}  // namespace

int64_t NextBatchSize(double rate_per_second, bool missed, int64_t previous,
                      const PrefetcherOptions& options) {
  const double wanted =
      rate_per_second * static_cast<double>(options.max_staleness_micros) / 4e6;
  int64_t size = wanted >= static_cast<double>(options.max_batch)
                     ? options.max_batch
                     : static_cast<int64_t>(wanted);
  if (missed) size = std::max(size, std::min(previous, options.max_batch) * 2);
  return std::clamp(size, options.min_batch, options.max_batch);
}

int64_t CoarseGuard(int64_t max_staleness_micros, int64_t coarse_resolution) {
  if (coarse_resolution <= 0) return 0;
  return std::min(max_staleness_micros,
                  std::max(8 * coarse_resolution, max_staleness_micros / 8));
}

Prefetcher::Prefetcher(PrefetcherOptions options, const TimeSource& time,
                       FetchFunction fetch, ErrorsFunction errors)
    : options_(options),
      time_(time),
      fetch_(std::move(fetch)),
      errors_(std::move(errors)),
      buffer_(
          options.high_watermark + 2, options.max_batch,
          CoarseGuard(options.max_staleness_micros, time.coarse_resolution())) {
  batch_ = options_.min_batch;
  max_batch_ = options_.max_batch;
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  wanted_.SignalAll();
  ready_.SignalAll();
  thread_.join();
}

absl::StatusOr<uint64_t> Prefetcher::Take(int64_t deadline) {
  uint64_t id = 0;
  bool missed = false;
  MutexLock lock(&mu_);
  const uint64_t failures_before = failures_;
  for (;;) {
    if (buffer_.Advance(time_.Now()) && buffer_.TryTake(time_.Now(), id)) {
      if (!missed) hits_.Add(1);
      wanted_.SignalAll();  // A batch begun: time to look at the watermark.
      return id;
    }
    if (!missed) {
      missed = true;
      misses_.fetch_add(1, std::memory_order_relaxed);
    }
    if (failures_ != failures_before) return last_error_;
    const int64_t now = time_.Now();
    if (now >= deadline) {
      // A refill may still be trying (its fetch has a deadline of its
      // own): what the sources said so far tells why.
      const std::string errors = errors_ ? errors_() : std::string();
      std::string why;
      if (!errors.empty()) {
        why = Cat("; the last errors: ", errors);
      } else if (!last_error_.ok()) {
        why = Cat("; the last refill failed: ", last_error_.message());
      }
      return absl::DeadlineExceededError(
          Cat("no ID within the deadline: the buffer is empty and no refill "
              "arrived",
              why));
    }
    ++waiters_;
    wanted_.SignalAll();
    ready_.WaitFor(&mu_, milliseconds(std::min(CeilMillis(deadline - now),
                                               kMaxWaitMillis)));
    --waiters_;
  }
}

void Prefetcher::Run() {
  const milliseconds poll(
      std::clamp<int64_t>(options_.max_staleness_micros / 8 / 1000, 1, 50));
  MutexLock lock(&mu_);
  while (!stop_) {
    if (Wanted(time_.Now())) {
      Refill();
    } else {
      wanted_.WaitFor(&mu_, poll);
    }
  }
}

bool Prefetcher::Wanted(int64_t now) {
  buffer_.DropStale(now);
  const int queued = buffer_.Queued(now);
  // Takers wait only on an empty queue; a queued batch is theirs already.
  if (waiters_ > 0 && queued == 0) return true;
  if (queued >= options_.high_watermark) {
    filling_ = false;
    return false;
  }
  if (filling_) return true;
  // Below the low watermark, refill only for a client that takes IDs: an
  // idle one would fetch batches only to drop them stale.
  const uint64_t taken = hits_.Sum() + misses_.load(std::memory_order_relaxed);
  if (queued < options_.low_watermark && taken > taken_at_refill_) {
    filling_ = true;
    return true;
  }
  return false;
}

void Prefetcher::Refill() {
  const int64_t now = time_.Now();
  const uint64_t misses = misses_.load(std::memory_order_relaxed);
  const uint64_t taken = hits_.Sum() + misses;
  if (refill_time_ != 0 && now > refill_time_) {
    const double sample = static_cast<double>(taken - taken_at_refill_) * 1e6 /
                          static_cast<double>(now - refill_time_);
    // Up at once, down gently: a burst is served, a pause not forgotten.
    rate_ = sample >= rate_ ? sample : (rate_ + sample) / 2;
  }
  const bool missed = misses > misses_at_refill_;
  refill_time_ = now;
  taken_at_refill_ = taken;
  misses_at_refill_ = misses;
  PrefetcherOptions sizing = options_;
  sizing.max_batch = max_batch_;
  sizing.min_batch = std::min(options_.min_batch, max_batch_);
  batch_ = NextBatchSize(rate_, missed, batch_, sizing);
  const int64_t count = batch_;
  // Always one: fewer than high_watermark batches are queued when a refill
  // starts, at most one is current, and the ring has two slots more.
  const std::optional<int> slot = buffer_.Reserve();
  if (!slot.has_value()) return;

  mu_.Unlock();
  absl::StatusOr<Fetched> fetched =
      fetch_(count, time_.Now() + options_.deadline_micros);
  if (fetched.ok()) {
    buffer_.Write(*slot, fetched->ids,
                  fetched->requested_at + options_.max_staleness_micros);
    buffer_.Publish(*slot);
  } else {
    buffer_.Unreserve(*slot);
  }
  mu_.Lock();

  if (fetched.ok()) {
    refills_.fetch_add(1, std::memory_order_relaxed);
    ready_.SignalAll();
    return;
  }
  if (absl::IsOutOfRange(fetched.status()) && count > 1) {
    // The node's largest batch is below ours: halve ours and go on.
    max_batch_ = std::max<int64_t>(1, count / 2);
    batch_ = max_batch_;
    return;
  }
  last_error_ = fetched.status();
  ++failures_;
  filling_ = false;
  ready_.SignalAll();
  if (!stop_) wanted_.WaitFor(&mu_, kPauseAfterFailure);
}

}  // namespace snowflake::client::internal
