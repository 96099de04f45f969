// Fuzzes ID and layout parsing (snowflake/id.h, snowflake/layout.h). The
// input is up to four lines: an ID (tried in every encoding, and as an
// encoding name), a layout ("TIME/WORKER/SEQUENCE" or a preset name), its
// unit in ms and its epoch in Unix ms. Whatever parses must re-encode and
// parse to the same value; decimal and hex agree with std::from_chars; an
// ID that fits the layout decomposes and composes back to itself.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "tests/fuzz/fuzz_check.h"

namespace snowflake {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// The first four lines of `text` (missing ones empty).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (lines.size() < 3) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) break;
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  lines.push_back(text);
  lines.resize(4);
  return lines;
}

// `text` in `base` by std::from_chars: the whole of it, or nullopt.
std::optional<uint64_t> FromChars(std::string_view text, int base) {
  uint64_t value = 0;
  const auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// The independent reading of decimal and hex IDs: digits only (hex after
// an optional 0x), below the sign bit.
std::optional<uint64_t> Oracle(std::string_view text, Encoding encoding) {
  std::optional<uint64_t> value;
  if (encoding == Encoding::kDecimal) {
    value = FromChars(text, 10);
  } else if (encoding == Encoding::kHex) {
    if (text.size() > 2 && text[0] == '0' &&
        (text[1] == 'x' || text[1] == 'X')) {
      text.remove_prefix(2);
    }
    value = FromChars(text, 16);
  } else {
    return std::nullopt;
  }
  if (value && (*value & kSignBit) != 0) return std::nullopt;
  return value;
}

// Checks every encoding of `text`; returns the values it parsed to.
std::vector<uint64_t> CheckIds(std::string_view text) {
  std::vector<uint64_t> ids;
  for (const Encoding encoding : AllEncodings()) {
    const absl::StatusOr<uint64_t> id = ParseId(text, encoding);
    if (encoding == Encoding::kDecimal || encoding == Encoding::kHex) {
      const std::optional<uint64_t> expected = Oracle(text, encoding);
      FUZZ_CHECK(id.ok() == expected.has_value());
      if (id.ok()) FUZZ_CHECK(*id == *expected);
    }
    if (!id.ok()) {
      FUZZ_CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
      FUZZ_CHECK(!id.status().message().empty());
      continue;
    }
    FUZZ_CHECK((*id & kSignBit) == 0);
    ids.push_back(*id);
    // Re-encoded in any encoding, it parses back; the encoding is canonical.
    for (const Encoding other : AllEncodings()) {
      const std::string encoded = EncodeId(*id, other);
      FUZZ_CHECK(!encoded.empty());
      const absl::StatusOr<uint64_t> again = ParseId(encoded, other);
      FUZZ_CHECK(again.ok() && *again == *id);
      FUZZ_CHECK(EncodeId(*again, other) == encoded);
    }
  }
  return ids;
}

void CheckEncodingName(std::string_view text) {
  const absl::StatusOr<Encoding> encoding = ParseEncodingName(text);
  if (!encoding.ok()) {
    FUZZ_CHECK(encoding.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  const absl::StatusOr<Encoding> again =
      ParseEncodingName(EncodingName(*encoding));
  FUZZ_CHECK(again.ok() && *again == *encoding);
}

// `text` as an int64 if it is one, else `fallback`.
int64_t IntOr(std::string_view text, int64_t fallback) {
  int64_t value = 0;
  const auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return fallback;
  }
  return value;
}

void CheckLayout(const Layout& layout, const std::vector<uint64_t>& ids) {
  const LayoutSpec& spec = layout.spec();
  // A valid layout's spec is valid, and its widths parse back to it.
  const absl::StatusOr<Layout> created = Layout::Create(spec);
  FUZZ_CHECK(created.ok() && *created == layout);
  const std::string widths = std::to_string(spec.time_bits) + "/" +
                             std::to_string(spec.worker_bits) + "/" +
                             std::to_string(spec.sequence_bits);
  const absl::StatusOr<Layout> parsed = Layout::Parse(widths, spec);
  FUZZ_CHECK(parsed.ok() && *parsed == layout);
  FUZZ_CHECK(spec.time_bits + spec.worker_bits + spec.sequence_bits <= 63);

  const LayoutLimits limits = layout.Limits();
  FUZZ_CHECK(limits.max_tick == layout.max_tick());
  FUZZ_CHECK(limits.workers == layout.max_worker() + 1);
  FUZZ_CHECK(limits.ids_per_tick == layout.max_sequence() + 1);
  FUZZ_CHECK(limits.last_millis < limits.end_millis);
  FUZZ_CHECK(limits.end_millis <= 253402300800000);  // 10000-01-01.
  FUZZ_CHECK(!FormatRfc3339Millis(limits.last_millis).empty());
  FUZZ_CHECK(!layout.ToString().empty());
  // The last tick's start maps back to it.
  FUZZ_CHECK(layout.TickAtMicros(limits.last_millis * 1000) ==
             layout.max_tick());

  for (const uint64_t id : ids) {
    const absl::StatusOr<IdParts> parts = layout.Decompose(id);
    const int total = spec.time_bits + spec.worker_bits + spec.sequence_bits;
    FUZZ_CHECK(parts.ok() == (total == 63 || (id >> total) == 0));
    if (!parts.ok()) continue;
    FUZZ_CHECK(parts->tick >= 0 && parts->tick <= layout.max_tick());
    FUZZ_CHECK(parts->worker >= 0 && parts->worker <= layout.max_worker());
    FUZZ_CHECK(parts->sequence >= 0 &&
               parts->sequence <= layout.max_sequence());
    FUZZ_CHECK(layout.Compose(*parts) == id);
    const int64_t millis = layout.MillisOfTick(parts->tick);
    FUZZ_CHECK(layout.TickAtMicros(millis * 1000) == parts->tick);
    FUZZ_CHECK(!layout.Decompose(id | kSignBit).ok());
  }
}

}  // namespace
}  // namespace snowflake

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using snowflake::LayoutSpec;
  const std::vector<std::string_view> lines = snowflake::Lines(
      std::string_view(reinterpret_cast<const char*>(data), size));
  const std::vector<uint64_t> ids = snowflake::CheckIds(lines[0]);
  snowflake::CheckEncodingName(lines[0]);

  LayoutSpec base;
  base.unit_millis = snowflake::IntOr(lines[2], base.unit_millis);
  base.epoch_millis = snowflake::IntOr(lines[3], base.epoch_millis);
  absl::StatusOr<snowflake::Layout> layout =
      lines[1].empty() ? absl::StatusOr<snowflake::Layout>(snowflake::Layout())
                       : snowflake::Layout::Parse(lines[1], base);
  if (!layout.ok()) {
    FUZZ_CHECK(layout.status().code() == absl::StatusCode::kInvalidArgument);
    layout = snowflake::Layout::Preset(lines[1]);
    if (!layout.ok()) {
      FUZZ_CHECK(layout.status().code() == absl::StatusCode::kNotFound);
    }
  }
  if (layout.ok()) snowflake::CheckLayout(*layout, ids);
  return 0;
}
