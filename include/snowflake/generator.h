// The ID generator: one node's source of unique, time-ordered IDs for one
// worker ID. Lock-free: its whole state is one atomic 64-bit word, the next
// free (tick, sequence) pair, advanced by compare-and-swap.
#ifndef SNOWFLAKE_GENERATOR_H_
#define SNOWFLAKE_GENERATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "snowflake/layout.h"

namespace snowflake {

struct GeneratorOptions {
  Layout layout;
  int64_t worker_id = 0;
  // Clock behind the last issued tick by at most this much: wait for it.
  // Further behind: fail with ErrorKind::kClockBackwards.
  int64_t tolerance_millis = 5;
  // In a burst, the tick may run ahead of the clock by at most this much
  // instead of waiting for the next tick. 0: never borrow.
  int64_t max_borrow_millis = 0;
  // If > 0, each new tick's sequence starts at a random value in
  // [0, sequence_start_max] instead of 0, so that IDs taken at low rates do
  // not all share their low bits (which skews sharding by id % n). Must be
  // below the layout's IDs per tick.
  int64_t sequence_start_max = 0;
  // The lowest tick the generator may issue (from the high-water mark of a
  // previous run). Ticks below it are never used.
  int64_t first_tick = 0;
  // The exclusive upper bound on ticks: nothing at or above it is issued
  // until SetHighWaterMark raises it. Default: no bound but the layout's.
  int64_t high_water_mark = INT64_MAX;
};

// A contiguous run of IDs: first, first + 1, ..., first + count - 1, all in
// one tick.
struct IdRun {
  uint64_t first = 0;
  uint32_t count = 0;
};

// Counters for the daemon's metrics. Monotonic except max_drift_millis,
// which is a running maximum.
struct GeneratorStats {
  uint64_t exhausted_waits = 0;    // Waits because a tick's sequence ran out.
  uint64_t backwards_events = 0;   // Calls that saw the clock behind.
  uint64_t backwards_errors = 0;   // Of those, refused (beyond tolerance).
  int64_t max_drift_millis = 0;    // Largest backwards drift seen.
  uint64_t clock_wait_micros = 0;  // Time spent waiting for the clock.
  uint64_t high_water_mark_hits = 0;  // Refusals at the high-water mark.
};

// Thread safety: every method may be called from any number of threads.
// Not copyable; the clock must outlive the generator.
class Generator {
 public:
  // Errors: kInvalidArgument if the worker ID does not fit the layout, a
  // tolerance/borrow is negative, or sequence_start_max is out of range.
  static absl::StatusOr<std::unique_ptr<Generator>> Create(
      const GeneratorOptions& options, Clock& clock);

  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // One new ID. Waits (briefly) when the tick's sequence is exhausted or the
  // clock is behind within tolerance. Errors (nothing issued):
  // kUnavailable/kClockBackwards (with drift), kUnavailable/kHighWaterMark,
  // kUnavailable/kStopped (shutting down or re-acquiring: retry),
  // kFailedPrecondition/kTimeRangeExhausted, kClockBeforeEpoch.
  absl::StatusOr<uint64_t> Next();

  // Reserves up to `max_count` (>= 1) consecutive IDs of one tick in one CAS.
  // Returns at least one ID. Errors: as Next.
  absl::StatusOr<IdRun> NextRun(uint32_t max_count);

  // As NextRun, but never waits: where NextRun would wait for the clock
  // (the tick's sequence used up, or the clock behind within tolerance) it
  // fails with kUnavailable/kWouldWait, nothing issued, carrying the wait
  // as its retry delay. For callers that must not block (I/O threads).
  // `min_count` (clamped to 1..max_count): fewer than that left in the
  // current tick is a wait too, and nothing is taken, so that a caller that
  // needs them all does not take a part only to drop it (more than a tick
  // holds always waits).
  absl::StatusOr<IdRun> TryNextRun(uint32_t max_count, uint32_t min_count = 1);

  // Fills `out` with new IDs, strictly increasing, one CAS per tick used.
  // On error, the IDs already written are abandoned (never issued again).
  absl::Status NextBatch(std::span<uint64_t> out);

  // Raises the exclusive tick bound after the caller has durably recorded
  // it. Lower values are ignored.
  void SetHighWaterMark(int64_t tick);
  int64_t high_water_mark() const {
    return high_water_mark_.load(std::memory_order_acquire);
  }

  // Stops issuing for good: every later call fails with kStopped, and no
  // call in flight can still issue once this returns. Returns the tick just
  // above the last issued ID (the high-water mark to persist on shutdown).
  int64_t Stop();

  // The tick just above the last issued ID (first_tick if none was issued):
  // the lowest tick a later run may use.
  int64_t NextFreeTick() const;

  // How far the clock is behind the last issued ID (beyond what may be
  // borrowed), 0 when it is not. Issuing is refused while this exceeds
  // tolerance_micros(): a readiness check asks before any client does.
  int64_t ClockBehindMicros() const;
  int64_t tolerance_micros() const { return tolerance_micros_; }

  const Layout& layout() const { return layout_; }
  int64_t worker_id() const { return worker_id_; }
  GeneratorStats stats() const;

 private:
  Generator(const GeneratorOptions& options, Clock& clock);

  // Reserves [state, state + count) for up to `max_count`; see generator.cc.
  absl::StatusOr<IdRun> Reserve(uint32_t max_count, uint32_t min_count,
                                bool may_wait);
  void NoteDrift(int64_t drift_micros, bool refused);
  uint32_t StartSequence();

  const Layout layout_;
  const int64_t worker_id_;
  const int sequence_bits_;
  const uint64_t worker_bits_shifted_;
  const int64_t tolerance_micros_;
  const int64_t max_borrow_ticks_;
  const int64_t sequence_start_max_;
  Clock& clock_;

  // The next free (tick << sequence_bits | sequence); bit 63 set = stopped.
  alignas(64) std::atomic<uint64_t> state_;
  alignas(64) std::atomic<int64_t> high_water_mark_;

  // Stats: touched only on slow paths.
  alignas(64) std::atomic<uint64_t> exhausted_waits_{0};
  std::atomic<uint64_t> backwards_events_{0};
  std::atomic<uint64_t> backwards_errors_{0};
  std::atomic<int64_t> max_drift_millis_{0};
  std::atomic<uint64_t> clock_wait_micros_{0};
  std::atomic<uint64_t> high_water_mark_hits_{0};
};

}  // namespace snowflake

#endif  // SNOWFLAKE_GENERATOR_H_
