#include "snowflake/layout.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

using base::AbslView;

constexpr int kIdBits = 63;  // The sign bit stays 0.
constexpr int64_t kMaxUnitMillis = 1000;
constexpr int64_t kMaxEpochMillis = 4102444800000;  // 2100-01-01T00:00:00Z.
// The time bits must run out by 9999-12-31T23:59:59.999Z, the last instant
// RFC 3339 can write (and far inside int64 milliseconds).
constexpr int64_t kMaxEndMillis = 253402300799999;
constexpr int kJsSafeBits = 53;
constexpr double kMillisPerYear = 365.25 * 86400 * 1000;

struct NamedLayout {
  std::string_view name;
  LayoutSpec spec;
};

// Epochs are those the systems publish: Twitter 2010-11-04T01:42:54.657Z,
// Discord 2015-01-01. Discord's time field is 42 bits wide, but its IDs keep
// the sign bit clear until 2084, so 41 bits decode them exactly until then.
constexpr NamedLayout kPresets[] = {
    {"default", {41, 10, 12, 1, kDefaultEpochMillis}},
    {"twitter", {41, 10, 12, 1, 1288834974657}},
    {"discord", {41, 10, 12, 1, 1420070400000}},
    // 39 bits of 10 ms = 174 years; 64 workers; 25,600 IDs/s per worker.
    {"js53", {39, 6, 8, 10, kDefaultEpochMillis}},
};

}  // namespace

Layout::Layout() : Layout(LayoutSpec{}) {}

Layout::Layout(const LayoutSpec& spec)
    : spec_(spec),
      shift_time_(spec.worker_bits + spec.sequence_bits),
      epoch_micros_(spec.epoch_millis * 1000),
      unit_micros_(spec.unit_millis * 1000) {}

absl::StatusOr<Layout> Layout::Create(const LayoutSpec& spec) {
  if (spec.time_bits < 1 || spec.time_bits > 62) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: time_bits must be 1 to 62, got ", spec.time_bits));
  }
  if (spec.worker_bits < 0 || spec.worker_bits > 61) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: worker_bits must be 0 to 61, got ", spec.worker_bits));
  }
  if (spec.sequence_bits < 1 || spec.sequence_bits > 61) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: sequence_bits must be 1 to 61, got ", spec.sequence_bits));
  }
  const int sum = spec.time_bits + spec.worker_bits + spec.sequence_bits;
  if (sum > kIdBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: time + worker + sequence bits must be at most 63 (the sign "
        "bit stays 0), got ",
        spec.time_bits, "+", spec.worker_bits, "+", spec.sequence_bits, "=",
        sum));
  }
  if (spec.unit_millis < 1 || spec.unit_millis > kMaxUnitMillis) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: unit must be 1 to 1000 ms, got ", spec.unit_millis));
  }
  if (spec.epoch_millis < 0 || spec.epoch_millis > kMaxEpochMillis) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: epoch must be Unix ms from 0 to ", kMaxEpochMillis,
        " (2100-01-01), got ", spec.epoch_millis));
  }
  // Both factors are bounded above (2^62 ticks, 1000 ms), so compare in
  // floating point before any integer product can overflow.
  const double end =
      static_cast<double>(spec.epoch_millis) +
      std::ldexp(static_cast<double>(spec.unit_millis), spec.time_bits);
  if (end > static_cast<double>(kMaxEndMillis)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: ", spec.time_bits, " time bits of ", spec.unit_millis,
        " ms run past the year 9999; use fewer time bits or a shorter unit"));
  }
  return Layout(spec);
}

absl::StatusOr<Layout> Layout::Parse(std::string_view widths,
                                     const LayoutSpec& base) {
  std::vector<absl::string_view> parts = absl::StrSplit(AbslView(widths), '/');
  int values[3];
  bool ok = parts.size() == 3;
  for (size_t i = 0; ok && i < 3; ++i) {
    ok = !parts[i].empty() && parts[i].size() <= 2 &&
         std::all_of(parts[i].begin(), parts[i].end(),
                     [](char c) { return c >= '0' && c <= '9'; }) &&
         absl::SimpleAtoi(parts[i], &values[i]);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout: expected TIME/WORKER/SEQUENCE bit widths such as 41/10/12, "
        "got \"",
        AbslView(widths), "\""));
  }
  LayoutSpec spec = base;
  spec.time_bits = values[0];
  spec.worker_bits = values[1];
  spec.sequence_bits = values[2];
  return Create(spec);
}

absl::StatusOr<Layout> Layout::Preset(std::string_view name) {
  for (const NamedLayout& preset : kPresets) {
    if (preset.name == name) return Layout(preset.spec);
  }
  return absl::NotFoundError(
      absl::StrCat("layout: unknown preset \"", AbslView(name),
                   "\"; known: ", absl::StrJoin(PresetNames(), ", ")));
}

std::vector<std::string> Layout::PresetNames() {
  std::vector<std::string> names;
  for (const NamedLayout& preset : kPresets) {
    names.emplace_back(preset.name);
  }
  return names;
}

absl::StatusOr<IdParts> Layout::Decompose(uint64_t id) const {
  if (id >> kIdBits != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ID: the sign bit is set in ", id));
  }
  const int total = shift_time_ + spec_.time_bits;
  if (total < kIdBits && (id >> total) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ID for layout ", ToString(), ": ", id,
                     " has bits set above bit ", total - 1));
  }
  IdParts parts;
  parts.tick = static_cast<int64_t>(id >> shift_time_);
  parts.worker = static_cast<int64_t>((id >> spec_.sequence_bits) &
                                      static_cast<uint64_t>(max_worker()));
  parts.sequence =
      static_cast<int64_t>(id & static_cast<uint64_t>(max_sequence()));
  return parts;
}

LayoutLimits Layout::Limits() const {
  LayoutLimits limits;
  limits.ids_per_tick = int64_t{1} << spec_.sequence_bits;
  limits.workers = int64_t{1} << spec_.worker_bits;
  limits.ids_per_second = static_cast<double>(limits.ids_per_tick) * 1000.0 /
                          static_cast<double>(spec_.unit_millis);
  limits.max_tick = max_tick();
  limits.years = static_cast<double>(max_tick() + 1) *
                 static_cast<double>(spec_.unit_millis) / kMillisPerYear;
  limits.last_millis = MillisOfTick(max_tick());
  limits.end_millis = MillisOfTick(max_tick()) + spec_.unit_millis;
  // The first tick at which some ID reaches 2^53: tick << shift >= 2^53.
  limits.js_unsafe_from_millis = -1;
  if (shift_time_ + spec_.time_bits > kJsSafeBits) {
    const int64_t tick = shift_time_ >= kJsSafeBits
                             ? 0
                             : int64_t{1} << (kJsSafeBits - shift_time_);
    if (tick <= max_tick()) limits.js_unsafe_from_millis = MillisOfTick(tick);
  }
  return limits;
}

std::string Layout::ToString() const {
  return absl::StrCat(spec_.time_bits, "/", spec_.worker_bits, "/",
                      spec_.sequence_bits, " unit=", spec_.unit_millis,
                      "ms epoch=", spec_.epoch_millis);
}

std::string FormatRfc3339Millis(int64_t unix_millis) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                          absl::FromUnixMillis(unix_millis),
                          absl::UTCTimeZone());
}

}  // namespace snowflake
