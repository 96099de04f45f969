// Keeps Client::Next() supplied: a background thread fetches batches into
// an IdBuffer ahead of need, between a low and a high watermark of queued
// batches, sizing them from the observed rate of Next(); a batch expires
// max_staleness after it was requested. Next() takes from the buffer
// without a lock; when it is empty, Take() waits for a refill up to the
// call's deadline.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_PREFETCHER_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_PREFETCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/client/internal/fetcher.h"
#include "src/client/internal/id_buffer.h"
#include "src/client/internal/sharded_counter.h"
#include "src/client/internal/time_source.h"

namespace snowflake::client::internal {

struct PrefetcherOptions {
  int64_t max_staleness_micros = 1'000'000;
  int64_t min_batch = 16;
  int64_t max_batch = 65'536;
  int low_watermark = 1;
  int high_watermark = 2;
  // Of each refill's fetch.
  int64_t deadline_micros = 2'000'000;
};

// The size of the next batch: a quarter of max_staleness worth of IDs at
// `rate_per_second`, so that the high watermark's batches are used well
// before they expire; at least twice `previous` if a Next() had to wait
// since the last refill (the rate seen then is what the buffer could
// supply, not what was asked); within [min_batch, max_batch].
int64_t NextBatchSize(double rate_per_second, bool missed, int64_t previous,
                      const PrefetcherOptions& options);

// How far before a batch's expiry the coarse clock stops deciding alone:
// eight of its ticks (it lags by one or two, and more when its virtual CPU
// was descheduled), or an eighth of max_staleness if longer, so that the
// precise clock is read only for IDs near the end of their life; 0 when
// both clocks are one (`coarse_resolution` 0).
int64_t CoarseGuard(int64_t max_staleness_micros, int64_t coarse_resolution);

// What to fetch for.
using FetchFunction =
    std::function<absl::StatusOr<Fetched>(int64_t count, int64_t deadline)>;
// What the sources last said when they failed ("" if none has), for the
// error of a Take() whose deadline passes while a refill is still trying.
using ErrorsFunction = std::function<std::string()>;

// Thread-safe. The destructor stops the refill thread, waiting for a fetch
// in flight (at most its deadline).
class Prefetcher {
 public:
  Prefetcher(PrefetcherOptions options, const TimeSource& time,
             FetchFunction fetch, ErrorsFunction errors = nullptr);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The hot path: an ID from the current batch if it has a fresh one. The
  // coarse clock decides far from the batch's expiry, the precise one
  // within CoarseGuard of it.
  bool TryTake(uint64_t& id) {
    if (!buffer_.TryTake(
            time_.CoarseNow(), [this] { return time_.Now(); }, id)) {
      return false;
    }
    hits_.Add(1);
    return true;
  }

  // When TryTake found nothing: the next batch, or else waits for a refill
  // until `deadline` (on the TimeSource). Errors: the error of a refill
  // that failed while waiting (Fetcher::Fetch's), or kDeadlineExceeded.
  absl::StatusOr<uint64_t> Take(int64_t deadline);

  uint64_t hits() const { return hits_.Sum(); }
  uint64_t misses() const { return misses_.load(); }
  uint64_t refills() const { return refills_.load(); }
  uint64_t dropped_stale() const { return buffer_.dropped_stale(); }

 private:
  void Run();
  // Whether to fetch now.
  bool Wanted(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fetches one batch (with mu_ released meanwhile) and queues it.
  void Refill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PrefetcherOptions options_;
  const TimeSource& time_;
  const FetchFunction fetch_;
  const ErrorsFunction errors_;
  IdBuffer buffer_;
  ShardedCounter hits_;
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> refills_{0};

  Mutex mu_;
  CondVar wanted_;  // Signals the refill thread.
  CondVar ready_;   // Signals waiting takers: a batch, or a failure.
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  bool filling_ ABSL_GUARDED_BY(mu_) = false;  // Below low, up to high.
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  // For the rate: IDs taken at the last refill, and when.
  uint64_t taken_at_refill_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_at_refill_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refill_time_ ABSL_GUARDED_BY(mu_) = 0;
  double rate_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_batch_ ABSL_GUARDED_BY(mu_) = 0;  // Lowered by a node's 413.

  std::thread thread_;  // Last: starts once the rest is ready.
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_PREFETCHER_H_
