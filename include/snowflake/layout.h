// The bit layout of an ID: [0 | time | worker | sequence] (at most 63 bits
// below the sign bit, normally exactly 63), a time unit
// and a custom epoch. A Layout is validated once and then composes,
// decomposes and derives limits; it is an immutable value, safe to share.
#ifndef SNOWFLAKE_LAYOUT_H_
#define SNOWFLAKE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace snowflake {

// 2025-01-01T00:00:00Z in milliseconds since the Unix epoch.
inline constexpr int64_t kDefaultEpochMillis = 1735689600000;

// What a user writes down; Layout::Create checks it.
struct LayoutSpec {
  int time_bits = 41;
  int worker_bits = 10;
  int sequence_bits = 12;
  int64_t unit_millis = 1;  // Length of one tick: 1 to 1000 ms.
  int64_t epoch_millis = kDefaultEpochMillis;  // Unix ms of tick 0.

  friend bool operator==(const LayoutSpec&, const LayoutSpec&) = default;
};

// The three fields of an ID.
struct IdParts {
  int64_t tick = 0;  // Ticks since the epoch.
  int64_t worker = 0;
  int64_t sequence = 0;

  friend bool operator==(const IdParts&, const IdParts&) = default;
};

// Numbers an operator plans with (`snowflake layout` prints them).
struct LayoutLimits {
  int64_t ids_per_tick;   // 2^sequence_bits.
  int64_t workers;        // 2^worker_bits.
  double ids_per_second;  // Per worker: ids_per_tick * 1000 / unit.
  int64_t max_tick;       // 2^time_bits - 1.
  double years;           // Range of the time bits, in 365.25-day years.
  int64_t last_millis;    // Unix ms at which the last tick begins.
  int64_t end_millis;     // Unix ms at which the time bits run out.
  // Unix ms at which IDs first exceed 2^53 (JavaScript's safe integers), or
  // -1 if they never do within the layout's range.
  int64_t js_unsafe_from_millis;
};

class Layout {
 public:
  // The default layout: 41/10/12 bits, 1 ms, kDefaultEpochMillis.
  Layout();

  // Validates `spec`: time and sequence at least 1 bit, worker at least 0,
  // summing to at most 63 (63 is the norm; fewer leaves the top bits zero,
  // as in the "js53" preset), unit in [1, 1000] ms, epoch from 1970 to 2100,
  // and the time bits running out before the year 10000.
  // Errors: kInvalidArgument naming the offending field and value.
  static absl::StatusOr<Layout> Create(const LayoutSpec& spec);

  // Parses "TIME/WORKER/SEQUENCE", e.g. "41/10/12", keeping the other fields
  // of `base`. Errors: kInvalidArgument.
  static absl::StatusOr<Layout> Parse(std::string_view widths,
                                      const LayoutSpec& base = {});

  // Named layouts: "default", "twitter", "discord" and "js53" (53 bits in
  // all: IDs stay below 2^53, safe as JavaScript numbers, for the layout's
  // whole life). Sonyflake is not offered: its sequence sits above its
  // machine ID, which this model's field order does not express.
  // Errors: kNotFound listing the known names.
  static absl::StatusOr<Layout> Preset(std::string_view name);
  static std::vector<std::string> PresetNames();

  const LayoutSpec& spec() const { return spec_; }
  int time_bits() const { return spec_.time_bits; }
  int worker_bits() const { return spec_.worker_bits; }
  int sequence_bits() const { return spec_.sequence_bits; }
  int64_t unit_millis() const { return spec_.unit_millis; }
  int64_t epoch_millis() const { return spec_.epoch_millis; }
  int64_t max_tick() const { return (int64_t{1} << spec_.time_bits) - 1; }
  int64_t max_worker() const { return (int64_t{1} << spec_.worker_bits) - 1; }
  int64_t max_sequence() const {
    return (int64_t{1} << spec_.sequence_bits) - 1;
  }

  // Packs `parts`; the caller guarantees each field is within its range
  // (checked in debug builds). Never sets the sign bit.
  uint64_t Compose(const IdParts& parts) const {
    return (static_cast<uint64_t>(parts.tick) << shift_time_) |
           (static_cast<uint64_t>(parts.worker) << spec_.sequence_bits) |
           static_cast<uint64_t>(parts.sequence);
  }

  // Unpacks `id`. Errors: kInvalidArgument if the sign bit is set.
  absl::StatusOr<IdParts> Decompose(uint64_t id) const;

  // Tick containing Unix time `unix_micros` (floor); negative before the
  // epoch. Inline: the generator calls it on every issue.
  int64_t TickAtMicros(int64_t unix_micros) const {
    const int64_t since = unix_micros - epoch_micros_;
    const int64_t tick = since / unit_micros_;
    return since < 0 && tick * unit_micros_ != since ? tick - 1 : tick;
  }
  // Unix ms at which `tick` begins.
  int64_t MillisOfTick(int64_t tick) const {
    return spec_.epoch_millis + tick * spec_.unit_millis;
  }

  LayoutLimits Limits() const;

  // "41/10/12" plus unit and epoch, for logs and mismatch messages.
  std::string ToString() const;

  friend bool operator==(const Layout& a, const Layout& b) {
    return a.spec_ == b.spec_;
  }

 private:
  explicit Layout(const LayoutSpec& spec);

  LayoutSpec spec_;
  int shift_time_;
  int64_t epoch_micros_;
  int64_t unit_micros_;
};

// Formats Unix ms as RFC 3339 UTC with milliseconds: 2025-01-01T00:00:00.000Z.
std::string FormatRfc3339Millis(int64_t unix_millis);

}  // namespace snowflake

#endif  // SNOWFLAKE_LAYOUT_H_
