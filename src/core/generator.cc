#include "snowflake/generator.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "snowflake/status.h"

namespace snowflake {
namespace {

// Set in state_ by Stop(): every CAS against the old value then fails, and
// every later load sees it.
constexpr uint64_t kStoppedBit = uint64_t{1} << 63;

// The tick just above the last one issued from state `next_free`.
int64_t TickAfterLast(uint64_t next_free, int sequence_bits) {
  if (next_free == 0) return 0;
  return static_cast<int64_t>((next_free - 1) >> sequence_bits) + 1;
}

void AtomicMax(std::atomic<int64_t>& target, int64_t value) {
  int64_t seen = target.load(std::memory_order_relaxed);
  while (seen < value && !target.compare_exchange_weak(
                             seen, value, std::memory_order_relaxed)) {
  }
}

uint64_t NextRandom() {
  // xorshift64*: per-thread, seeded from the thread's identity and the time.
  thread_local uint64_t x =
      (reinterpret_cast<uintptr_t>(&x) ^
       static_cast<uint64_t>(
           std::chrono::steady_clock::now().time_since_epoch().count())) |
      1;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x * 0x2545F4914F6CDD1DULL;
}

// TryNextRun's answer where NextRun would wait `wait_micros`.
absl::Status WouldWait(int64_t wait_micros) {
  return MakeError(
      absl::StatusCode::kUnavailable, ErrorKind::kWouldWait,
      absl::StrCat("the next ID needs the clock to advance ", wait_micros,
                   " us (this tick's sequence is used up "
                   "or the clock is slightly behind); retry"),
      std::nullopt, /*retry_delay_ms=*/(wait_micros + 999) / 1000);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Generator>> Generator::Create(
    const GeneratorOptions& options, Clock& clock) {
  const Layout& layout = options.layout;
  if (options.worker_id < 0 || options.worker_id > layout.max_worker()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker ID must be 0 to ", layout.max_worker(), " for a layout with ",
        layout.worker_bits(), " worker bits, got ", options.worker_id));
  }
  if (options.tolerance_millis < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "clock tolerance must be >= 0 ms, got ", options.tolerance_millis));
  }
  if (options.max_borrow_millis < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_borrow must be >= 0 ms, got ", options.max_borrow_millis));
  }
  if (options.sequence_start_max < 0 ||
      options.sequence_start_max > layout.max_sequence()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence_start_max must be 0 to ", layout.max_sequence(),
                     " (below the layout's IDs per tick), got ",
                     options.sequence_start_max));
  }
  if (options.first_tick < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_tick must be >= 0, got ", options.first_tick));
  }
  return std::unique_ptr<Generator>(new Generator(options, clock));
}

Generator::Generator(const GeneratorOptions& options, Clock& clock)
    : layout_(options.layout),
      worker_id_(options.worker_id),
      sequence_bits_(options.layout.sequence_bits()),
      worker_bits_shifted_(static_cast<uint64_t>(options.worker_id)
                           << options.layout.sequence_bits()),
      tolerance_micros_(options.tolerance_millis * 1000),
      max_borrow_ticks_(options.max_borrow_millis /
                        options.layout.unit_millis()),
      sequence_start_max_(options.sequence_start_max),
      clock_(clock),
      state_(std::min(options.first_tick, options.layout.max_tick() + 1)
             << options.layout.sequence_bits()),
      high_water_mark_(options.high_water_mark) {}

absl::StatusOr<uint64_t> Generator::Next() {
  absl::StatusOr<IdRun> run = Reserve(1, 1, /*may_wait=*/true);
  if (!run.ok()) return run.status();
  return run->first;
}

absl::StatusOr<IdRun> Generator::NextRun(uint32_t max_count) {
  return Reserve(std::max<uint32_t>(max_count, 1), 1, /*may_wait=*/true);
}

absl::StatusOr<IdRun> Generator::TryNextRun(uint32_t max_count,
                                            uint32_t min_count) {
  max_count = std::max<uint32_t>(max_count, 1);
  return Reserve(max_count, std::clamp<uint32_t>(min_count, 1, max_count),
                 /*may_wait=*/false);
}

absl::Status Generator::NextBatch(std::span<uint64_t> out) {
  size_t filled = 0;
  while (filled < out.size()) {
    const size_t left = out.size() - filled;
    absl::StatusOr<IdRun> run =
        Reserve(static_cast<uint32_t>(std::min<size_t>(
                    left, std::numeric_limits<uint32_t>::max())),
                1, /*may_wait=*/true);
    if (!run.ok()) return run.status();
    for (uint32_t i = 0; i < run->count; ++i) out[filled + i] = run->first + i;
    filled += run->count;
  }
  return absl::OkStatus();
}

uint32_t Generator::StartSequence() {
  if (sequence_start_max_ == 0) return 0;
  return static_cast<uint32_t>(NextRandom() %
                               static_cast<uint64_t>(sequence_start_max_ + 1));
}

void Generator::NoteDrift(int64_t drift_micros, bool refused) {
  backwards_events_.fetch_add(1, std::memory_order_relaxed);
  if (refused) backwards_errors_.fetch_add(1, std::memory_order_relaxed);
  AtomicMax(max_drift_millis_, (drift_micros + 999) / 1000);
}

absl::StatusOr<IdRun> Generator::Reserve(uint32_t max_count, uint32_t min_count,
                                         bool may_wait) {
  bool noted_backwards = false;
  bool noted_exhausted = false;
  const uint64_t sequence_mask = (uint64_t{1} << sequence_bits_) - 1;
  for (;;) {
    // Load the state before reading the clock: every tick in it came from a
    // clock read that happened before this load, so a `now` read after it is
    // not behind unless the clock itself moved back. (Read the other way
    // round, a thread preempted between the two would see its own stale
    // `now` as a clock regression.)
    const uint64_t cur = state_.load(std::memory_order_acquire);
    const int64_t now_micros = clock_.NowMicros();
    const int64_t now = layout_.TickAtMicros(now_micros);
    if (cur & kStoppedBit) {
      // Retryable: the node is shutting down or re-acquiring its lease, and
      // another node (or this one, later) can issue.
      return MakeError(absl::StatusCode::kUnavailable, ErrorKind::kStopped,
                       "the generator is stopped (shutting down or the worker "
                       "lease was lost); retry");
    }
    if (now < 0) {
      return MakeError(absl::StatusCode::kFailedPrecondition,
                       ErrorKind::kClockBeforeEpoch,
                       absl::StrCat("the clock (", now_micros / 1000,
                                    " ms) is before the layout's epoch (",
                                    layout_.epoch_millis(),
                                    " ms); fix the clock or the epoch"));
    }
    const int64_t cur_tick = static_cast<int64_t>(cur >> sequence_bits_);
    uint64_t start = cur;
    if (now > cur_tick && now <= layout_.max_tick()) {
      start = (static_cast<uint64_t>(now) << sequence_bits_) | StartSequence();
    }
    const int64_t tick = static_cast<int64_t>(start >> sequence_bits_);
    const int64_t first_ok = std::max(now, cur_tick);
    if (first_ok > layout_.max_tick() || tick > layout_.max_tick()) {
      return MakeError(
          absl::StatusCode::kFailedPrecondition, ErrorKind::kTimeRangeExhausted,
          absl::StrCat("the layout's time bits have run out (they end at ",
                       FormatRfc3339Millis(layout_.Limits().end_millis),
                       "); no more IDs can be made with layout ",
                       layout_.ToString()));
    }
    if (tick > now + max_borrow_ticks_) {
      // The tick to issue is ahead of the clock by more than we may borrow:
      // either this tick's sequence is used up, or the clock went back.
      // cur > 0 here: tick > now >= 0 means cur's tick is above 0.
      const int64_t last_tick =
          static_cast<int64_t>((cur - 1) >> sequence_bits_);
      const int64_t behind_micros =
          layout_.MillisOfTick(last_tick - max_borrow_ticks_) * 1000 -
          now_micros;
      if (behind_micros > 0) {
        const bool refuse = behind_micros > tolerance_micros_;
        if (!noted_backwards) {
          NoteDrift(behind_micros, refuse);
          noted_backwards = true;
        }
        if (refuse) {
          const int64_t drift_ms = (behind_micros + 999) / 1000;
          return MakeError(
              absl::StatusCode::kUnavailable, ErrorKind::kClockBackwards,
              absl::StrCat("the clock is ", drift_ms,
                           " ms behind the last issued ID (tolerance ",
                           tolerance_micros_ / 1000,
                           " ms); refusing to issue until it catches up"),
              drift_ms, /*retry_delay_ms=*/drift_ms);
        }
      } else if (!noted_exhausted) {
        exhausted_waits_.fetch_add(1, std::memory_order_relaxed);
        noted_exhausted = true;
      }
      const int64_t wait_micros =
          layout_.MillisOfTick(tick - max_borrow_ticks_) * 1000 - now_micros;
      if (!may_wait) return WouldWait(wait_micros);
      clock_.SleepForMicros(wait_micros);
      clock_wait_micros_.fetch_add(
          static_cast<uint64_t>(std::max<int64_t>(wait_micros, 0)),
          std::memory_order_relaxed);
      continue;
    }
    if (tick >= high_water_mark_.load(std::memory_order_acquire)) {
      high_water_mark_hits_.fetch_add(1, std::memory_order_relaxed);
      return MakeError(
          absl::StatusCode::kUnavailable, ErrorKind::kHighWaterMark,
          absl::StrCat("tick ", tick, " has reached the high-water mark ",
                       high_water_mark(),
                       ", which has not been extended yet (is the state "
                       "store slow or failing?); retry shortly"));
    }
    const uint64_t room = sequence_mask + 1 - (start & sequence_mask);
    if (room < min_count) {
      // Fewer left in this tick than the caller takes: the rest is the next
      // tick's, so this is a wait for it, and nothing is taken. (Only
      // TryNextRun asks a minimum, and it never loops back here.)
      exhausted_waits_.fetch_add(1, std::memory_order_relaxed);
      return WouldWait(std::max<int64_t>(
          0, layout_.MillisOfTick(tick + 1 - max_borrow_ticks_) * 1000 -
                 now_micros));
    }
    const uint32_t count =
        static_cast<uint32_t>(std::min<uint64_t>(room, max_count));
    uint64_t expected = cur;
    if (!state_.compare_exchange_weak(expected, start + count,
                                      std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      continue;
    }
    const uint64_t id = ((start & ~sequence_mask) << layout_.worker_bits()) |
                        worker_bits_shifted_ | (start & sequence_mask);
    return IdRun{id, count};
  }
}

void Generator::SetHighWaterMark(int64_t tick) {
  int64_t seen = high_water_mark_.load(std::memory_order_relaxed);
  while (seen < tick && !high_water_mark_.compare_exchange_weak(
                            seen, tick, std::memory_order_release,
                            std::memory_order_relaxed)) {
  }
}

int64_t Generator::Stop() {
  const uint64_t prev = state_.fetch_or(kStoppedBit, std::memory_order_acq_rel);
  return TickAfterLast(prev & ~kStoppedBit, sequence_bits_);
}

int64_t Generator::ClockBehindMicros() const {
  // As Reserve: the state before the clock.
  const uint64_t cur = state_.load(std::memory_order_acquire) & ~kStoppedBit;
  const int64_t now_micros = clock_.NowMicros();
  if (cur == 0) return 0;
  const int64_t last_tick = static_cast<int64_t>((cur - 1) >> sequence_bits_);
  return std::max<int64_t>(
      0,
      layout_.MillisOfTick(last_tick - max_borrow_ticks_) * 1000 - now_micros);
}

int64_t Generator::NextFreeTick() const {
  return TickAfterLast(state_.load(std::memory_order_acquire) & ~kStoppedBit,
                       sequence_bits_);
}

GeneratorStats Generator::stats() const {
  GeneratorStats s;
  s.exhausted_waits = exhausted_waits_.load(std::memory_order_relaxed);
  s.backwards_events = backwards_events_.load(std::memory_order_relaxed);
  s.backwards_errors = backwards_errors_.load(std::memory_order_relaxed);
  s.max_drift_millis = max_drift_millis_.load(std::memory_order_relaxed);
  s.clock_wait_micros = clock_wait_micros_.load(std::memory_order_relaxed);
  s.high_water_mark_hits =
      high_water_mark_hits_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace snowflake
