// How late the kernel wakes a sleeping thread, learned from the thread's
// own sleeps: a generator waiting for the next tick sleeps until that much
// before the tick and spins the rest, so that it neither wakes after its
// tick began nor spins longer than this machine makes it (docs/benchmarks.md,
// CPU per ID).
#ifndef SNOWFLAKE_SRC_CORE_WAKE_DELAY_H_
#define SNOWFLAKE_SRC_CORE_WAKE_DELAY_H_

#include <algorithm>
#include <cstdint>

namespace snowflake {

// The 75th percentile of the wake-up delays seen, kept without storing
// them: up 3 us for a wake later than the estimate, down 1 us for one
// earlier, which settles where a quarter of wakes are later. Clamped to
// [0, max]. Not thread-safe: one per thread.
class WakeDelay {
 public:
  WakeDelay(int64_t initial_micros, int64_t max_micros)
      : max_micros_(max_micros),
        micros_(std::clamp<int64_t>(initial_micros, 0, max_micros)) {}

  int64_t micros() const { return micros_; }

  // One wake `late_micros` after the time asked for.
  void Observe(int64_t late_micros) {
    micros_ = std::clamp<int64_t>(
        late_micros > micros_ ? micros_ + kUpMicros : micros_ - kDownMicros, 0,
        max_micros_);
  }

 private:
  static constexpr int64_t kUpMicros = 3;
  static constexpr int64_t kDownMicros = 1;

  const int64_t max_micros_;
  int64_t micros_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_CORE_WAKE_DELAY_H_
