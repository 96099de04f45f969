#include "src/server/internal/history.h"

#include <algorithm>

namespace snowflake::internal {

double BucketQuantile(std::span<const int64_t> bounds,
                      std::span<const uint64_t> counts, double q) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0 || bounds.empty()) return -1;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    const uint64_t upto = below + counts[b];
    if (static_cast<double>(upto) >= rank && counts[b] > 0) {
      if (b >= bounds.size()) return static_cast<double>(bounds.back());
      const double lower = b == 0 ? 0 : static_cast<double>(bounds[b - 1]);
      const double upper = static_cast<double>(bounds[b]);
      const double into =
          (rank - static_cast<double>(below)) / static_cast<double>(counts[b]);
      return lower + (upper - lower) * into;
    }
    below = upto;
  }
  return static_cast<double>(bounds.back());
}

History::History(std::span<const int64_t> bounds) : bounds_(bounds) {}

void History::Update(int64_t now_ms, const HistoryTotals& totals) {
  const bool went_back =
      has_baseline_ &&
      (now_ms < baseline_ms_ || totals.ids < baseline_.ids ||
       totals.buckets.size() != baseline_.buckets.size() ||
       !std::equal(totals.buckets.begin(), totals.buckets.end(),
                   baseline_.buckets.begin(),
                   [](uint64_t now, uint64_t then) { return now >= then; }));
  if (!has_baseline_ || went_back) {
    has_baseline_ = true;
    baseline_ms_ = now_ms;
    baseline_ = totals;
    return;
  }
  const int64_t elapsed_ms = now_ms - baseline_ms_;
  if (elapsed_ms < 1000) return;
  const double seconds = static_cast<double>(elapsed_ms) / 1e3;
  std::vector<uint64_t> delta(totals.buckets.size());
  uint64_t requests = 0;
  for (size_t b = 0; b < delta.size(); ++b) {
    delta[b] = totals.buckets[b] - baseline_.buckets[b];
    requests += delta[b];
  }
  HistorySample sample;
  sample.ids_per_second =
      static_cast<double>(totals.ids - baseline_.ids) / seconds;
  sample.requests_per_second = static_cast<double>(requests) / seconds;
  const double p50 = BucketQuantile(bounds_, delta, 0.5);
  const double p99 = BucketQuantile(bounds_, delta, 0.99);
  sample.p50_ms = p50 < 0 ? -1 : p50 / 1e6;
  sample.p99_ms = p99 < 0 ? -1 : p99 / 1e6;
  const int64_t whole =
      std::min<int64_t>(elapsed_ms / 1000, History::kCapacity);
  for (int64_t i = whole - 1; i >= 0; --i) {
    sample.unix_ms = now_ms - i * 1000;
    samples_.push_back(sample);
  }
  while (samples_.size() > static_cast<size_t>(kCapacity)) {
    samples_.pop_front();
  }
  baseline_ms_ = now_ms;
  baseline_ = totals;
}

}  // namespace snowflake::internal
