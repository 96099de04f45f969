// The node's recent activity, one sample a second for the last five minutes:
// IDs issued and the latency of ID requests, for the status page's charts.
// Filled lazily from the cumulative counters whenever someone reads it, so
// that the hot path pays nothing for it.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_HISTORY_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_HISTORY_H_

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace snowflake::internal {

// Cumulative counters at one moment; the history keeps their differences.
struct HistoryTotals {
  uint64_t ids = 0;
  // ID requests per latency bucket (one more than the bounds: +Inf).
  std::vector<uint64_t> buckets;
};

// One second of activity.
struct HistorySample {
  int64_t unix_ms = 0;  // When the second ended.
  double ids_per_second = 0;
  double requests_per_second = 0;
  // Latency percentiles of the ID requests in milliseconds, interpolated
  // within a bucket as Prometheus' histogram_quantile does; -1 when there
  // were no requests.
  double p50_ms = -1;
  double p99_ms = -1;
};

// The q-quantile (0..1) in nanoseconds of `counts` (per bucket, the last
// one unbounded) over the upper `bounds`; -1 when all counts are zero. A
// quantile in the unbounded bucket is reported as the last bound.
double BucketQuantile(std::span<const int64_t> bounds,
                      std::span<const uint64_t> counts, double q);

// Thread safety: none; its owner (Metrics) serializes the calls.
class History {
 public:
  static constexpr int kCapacity = 300;  // Seconds kept.

  // `bounds` (the latency buckets' upper bounds) must outlive the history.
  explicit History(std::span<const int64_t> bounds);
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Brings the history up to `now_ms` with the counters' values then. The
  // first call only sets the baseline. Each whole second since the last
  // update adds a sample; when the last update is more than a second old,
  // the seconds in between share its average (nobody looked: the history is
  // as fine as its readers' polling, the page's is one second). A clock
  // that went back, or counters that went down, reset the baseline.
  void Update(int64_t now_ms, const HistoryTotals& totals);

  // Oldest first, at most kCapacity.
  std::vector<HistorySample> Samples() const {
    return {samples_.begin(), samples_.end()};
  }

 private:
  const std::span<const int64_t> bounds_;
  bool has_baseline_ = false;
  int64_t baseline_ms_ = 0;
  HistoryTotals baseline_;
  std::deque<HistorySample> samples_;
};

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_HISTORY_H_
