#include "src/cli/commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "snowflake/generator.h"
#include "snowflake/id.h"
#include "src/base/strings.h"

namespace snowflake::cli {
namespace {

using Json = nlohmann::ordered_json;

// How many IDs `gen` asks the generator for at a time.
constexpr int64_t kGenBatch = 4096;
// JavaScript's numbers hold every integer below 2^53 exactly, not above.
constexpr std::string_view kJsLimitName = "2^53";

using base::OneLine;
using base::StdView;
using base::Trim;

// Writes "snowflake: <command>: <message>" lines on the error stream.
class Reporter {
 public:
  Reporter(std::ostream& err, std::string_view command)
      : err_(err), command_(command) {}

  // Writes the error line and returns `exit_code`.
  int Fail(int exit_code, std::string_view message) const {
    err_ << "snowflake: " << command_ << ": " << OneLine(message) << '\n';
    return exit_code;
  }

  void Warn(std::string_view message) const {
    err_ << "snowflake: " << command_ << ": WARNING: " << OneLine(message)
         << '\n';
  }

 private:
  std::ostream& err_;
  std::string_view command_;
};

// Where an input came from, for messages: "" for an argument (line 0).
std::string Where(int64_t stdin_line) {
  return stdin_line == 0 ? std::string()
                         : fmt::format(" (stdin line {})", stdin_line);
}

// Calls `fn(text, stdin_line)` for each input as commands.h describes;
// `stdin_line` is 0 for an argument. Returns the first exit code of `fn`
// other than kExitOk, or kExitOk.
template <typename Fn>
int ForEachInput(const std::vector<std::string>& args, std::istream& in,
                 Fn fn) {
  auto read_stdin = [&in, &fn]() {
    std::string line;
    for (int64_t line_number = 1; std::getline(in, line); ++line_number) {
      const std::string_view text = Trim(line);
      if (text.empty()) continue;
      if (const int rc = fn(text, line_number); rc != kExitOk) return rc;
    }
    return kExitOk;
  };
  if (args.empty()) return read_stdin();
  for (const std::string& arg : args) {
    const int rc = arg == "-" ? read_stdin() : fn(Trim(arg), 0);
    if (rc != kExitOk) return rc;
  }
  return kExitOk;
}

// The encoding named by `flag`'s value `name`; on error, reports it.
std::optional<Encoding> ResolveEncoding(const Reporter& reporter,
                                        std::string_view flag,
                                        std::string_view name) {
  absl::StatusOr<Encoding> encoding = ParseEncodingName(name);
  if (!encoding.ok()) {
    reporter.Fail(
        kExitUsage,
        fmt::format("{}: {}", flag, StdView(encoding.status().message())));
    return std::nullopt;
  }
  return *encoding;
}

// Parses one input ID; on error, reports it naming the input.
std::optional<uint64_t> ParseInput(const Reporter& reporter,
                                   std::string_view text, int64_t stdin_line,
                                   Encoding encoding) {
  absl::StatusOr<uint64_t> id = ParseId(text, encoding);
  if (!id.ok()) {
    reporter.Fail(
        kExitBadData,
        fmt::format("invalid ID {}{}: {}", base::Quote(text), Where(stdin_line),
                    StdView(id.status().message())));
    return std::nullopt;
  }
  return *id;
}

// a * b + c, or nullopt if it does not fit in int64_t.
std::optional<int64_t> MulAdd(int64_t a, int64_t b, int64_t c) {
  int64_t product = 0;
  int64_t sum = 0;
  if (__builtin_mul_overflow(a, b, &product) ||
      __builtin_add_overflow(product, c, &sum)) {
    return std::nullopt;
  }
  return sum;
}

// Unix ms at which `tick` begins, or nullopt past the int64_t range (only
// for extreme layouts; Layout::MillisOfTick does not check).
std::optional<int64_t> MillisOfTick(const Layout& layout, int64_t tick) {
  return MulAdd(tick, layout.unit_millis(), layout.epoch_millis());
}

// Whether `rate` is a whole number that int64_t holds.
bool IsWhole(double rate) { return rate == std::floor(rate) && rate < 9e18; }

// Unix ms at which the time bits run out (the end of the last tick), or
// nullopt past the int64_t range.
std::optional<int64_t> EndMillis(const Layout& layout) {
  return MulAdd(layout.max_tick() + 1, layout.unit_millis(),
                layout.epoch_millis());
}

// A rate as a whole number when it is one, else with two decimals.
std::string FormatRate(double rate) {
  if (IsWhole(rate)) return fmt::format("{:.0f}", rate);
  return fmt::format("{:.2f}", rate);
}

Json RateJson(double rate) {
  if (IsWhole(rate)) {
    return static_cast<int64_t>(rate);
  }
  return rate;
}

// Unix ms and RFC 3339 text of `millis`, or nulls when absent.
Json MillisJson(std::optional<int64_t> millis) {
  return millis ? Json(*millis) : Json(nullptr);
}
Json TimeJson(std::optional<int64_t> millis) {
  return millis ? Json(FormatRfc3339Millis(*millis)) : Json(nullptr);
}

std::string DumpJson(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<Layout> ResolveLayout(const LayoutFlags& flags) {
  std::string preset_name = flags.preset;
  std::string widths = flags.widths;
  // --layout takes a preset name as snowflaked's --layout does.
  if (!widths.empty() && Layout::Preset(widths).ok()) {
    if (preset_name != kDefaultPreset && preset_name != widths) {
      return absl::InvalidArgumentError(fmt::format(
          "layout: --preset {} and --layout {} name two layouts; give one",
          preset_name, widths));
    }
    preset_name = std::move(widths);
    widths.clear();
  }
  absl::StatusOr<Layout> preset = Layout::Preset(preset_name);
  if (!preset.ok()) return preset.status();
  LayoutSpec spec = preset->spec();
  if (flags.epoch_millis) spec.epoch_millis = *flags.epoch_millis;
  if (flags.unit_millis) spec.unit_millis = *flags.unit_millis;
  if (!widths.empty() && widths.find('/') == std::string::npos) {
    return absl::InvalidArgumentError(fmt::format(
        "layout: \"{}\" is neither TIME/WORKER/SEQUENCE bit widths (e.g. "
        "41/10/12) nor a preset ({})",
        widths, fmt::join(Layout::PresetNames(), ", ")));
  }
  absl::StatusOr<Layout> layout =
      widths.empty() ? Layout::Create(spec) : Layout::Parse(widths, spec);
  // Layout::Limits() and MillisOfTick() do not check for overflow.
  if (layout.ok() && !EndMillis(*layout)) {
    return absl::InvalidArgumentError(fmt::format(
        "layout: {} bits of {} ms ticks reach past the year 292 million "
        "(the end of 64-bit milliseconds); use fewer time bits or a shorter "
        "unit",
        layout->time_bits(), layout->unit_millis()));
  }
  return layout;
}

int Decode(const DecodeFlags& flags, Io& io) {
  const Reporter reporter(io.err, "decode");
  absl::StatusOr<Layout> layout = ResolveLayout(flags.layout);
  if (!layout.ok()) {
    return reporter.Fail(kExitUsage, StdView(layout.status().message()));
  }
  const std::optional<Encoding> encoding =
      ResolveEncoding(reporter, "--encoding", flags.encoding);
  if (!encoding) return kExitUsage;
  const bool show_input = *encoding != Encoding::kDecimal;

  return ForEachInput(
      flags.ids, io.in, [&](std::string_view text, int64_t stdin_line) {
        const std::optional<uint64_t> id =
            ParseInput(reporter, text, stdin_line, *encoding);
        if (!id) return kExitBadData;
        absl::StatusOr<IdParts> parts = layout->Decompose(*id);
        if (!parts.ok()) {
          return reporter.Fail(kExitBadData,
                               fmt::format("invalid ID {}{}: {}",
                                           base::Quote(text), Where(stdin_line),
                                           StdView(parts.status().message())));
        }
        const std::optional<int64_t> millis =
            MillisOfTick(*layout, parts->tick);
        if (!millis) {
          return reporter.Fail(
              kExitBadData,
              fmt::format("invalid ID {}{}: its tick {} lies beyond the year "
                          "292 million",
                          base::Quote(text), Where(stdin_line), parts->tick));
        }
        if (flags.json) {
          Json json;
          json["id"] = std::to_string(*id);
          if (show_input) json["input"] = std::string(text);
          json["time_ms"] = *millis;
          json["time"] = FormatRfc3339Millis(*millis);
          json["worker"] = parts->worker;
          json["sequence"] = parts->sequence;
          json["tick"] = parts->tick;
          io.out << DumpJson(json) << '\n';
        } else {
          io.out << "id=" << *id;
          if (show_input) io.out << " input=" << text;
          io.out << fmt::format(
              " time_ms={} time={} worker={} sequence={} tick={}\n", *millis,
              FormatRfc3339Millis(*millis), parts->worker, parts->sequence,
              parts->tick);
        }
        return kExitOk;
      });
}

int Gen(const GenFlags& flags, Clock& clock, Io& io) {
  const Reporter reporter(io.err, "gen");
  absl::StatusOr<Layout> layout = ResolveLayout(flags.layout);
  if (!layout.ok()) {
    return reporter.Fail(kExitUsage, StdView(layout.status().message()));
  }
  const std::optional<Encoding> encoding =
      ResolveEncoding(reporter, "--encoding", flags.encoding);
  if (!encoding) return kExitUsage;
  if (flags.count < 1 || flags.count > kMaxGenCount) {
    return reporter.Fail(
        kExitUsage, fmt::format("-n: {} is out of range [1, {}]", flags.count,
                                kMaxGenCount));
  }
  if (flags.worker < 0 || flags.worker > layout->max_worker()) {
    return reporter.Fail(
        kExitUsage,
        fmt::format("--worker: {} is out of range [0, {}] for {} worker bits",
                    flags.worker, layout->max_worker(), layout->worker_bits()));
  }
  GeneratorOptions options;
  options.layout = *layout;
  options.worker_id = flags.worker;
  absl::StatusOr<std::unique_ptr<Generator>> generator =
      Generator::Create(options, clock);
  if (!generator.ok()) {
    return reporter.Fail(kExitUsage, StdView(generator.status().message()));
  }

  std::vector<uint64_t> batch(
      static_cast<size_t>(std::min(flags.count, kGenBatch)));
  for (int64_t left = flags.count; left > 0;) {
    const std::span<uint64_t> ids(
        batch.data(), static_cast<size_t>(std::min<int64_t>(
                          left, static_cast<int64_t>(batch.size()))));
    if (absl::Status status = (*generator)->NextBatch(ids); !status.ok()) {
      return reporter.Fail(
          kExitBadData,
          fmt::format("cannot generate: {}", StdView(status.message())));
    }
    for (const uint64_t id : ids) io.out << EncodeId(id, *encoding) << '\n';
    left -= static_cast<int64_t>(ids.size());
  }
  return kExitOk;
}

int ShowLayout(const LayoutCommandFlags& flags, Io& io) {
  const Reporter reporter(io.err, "layout");
  absl::StatusOr<Layout> layout = ResolveLayout(flags.layout);
  if (!layout.ok()) {
    return reporter.Fail(kExitUsage, StdView(layout.status().message()));
  }
  const LayoutLimits limits = layout->Limits();
  const double cluster_rate =
      limits.ids_per_second * static_cast<double>(limits.workers);
  const int64_t epoch = layout->epoch_millis();
  const std::optional<int64_t> runs_out = EndMillis(*layout);
  const std::optional<int64_t> js_unsafe_from =
      limits.js_unsafe_from_millis < 0
          ? std::nullopt
          : std::optional<int64_t>(limits.js_unsafe_from_millis);

  if (flags.json) {
    Json json;
    json["time_bits"] = layout->time_bits();
    json["worker_bits"] = layout->worker_bits();
    json["sequence_bits"] = layout->sequence_bits();
    json["unit_ms"] = layout->unit_millis();
    json["epoch_ms"] = epoch;
    json["epoch"] = FormatRfc3339Millis(epoch);
    json["ids_per_tick"] = limits.ids_per_tick;
    json["workers"] = limits.workers;
    json["ids_per_second_per_worker"] = RateJson(limits.ids_per_second);
    json["ids_per_second_cluster"] = RateJson(cluster_rate);
    json["years"] = limits.years;
    json["runs_out_ms"] = MillisJson(runs_out);
    json["runs_out"] = TimeJson(runs_out);
    json["js_unsafe_from_ms"] = MillisJson(js_unsafe_from);
    json["js_unsafe_from"] = TimeJson(js_unsafe_from);
    io.out << DumpJson(json) << '\n';
  } else {
    auto line = [&io](std::string_view name, const std::string& value) {
      io.out << fmt::format("{:<18}{}\n", name, value);
    };
    auto time = [](std::optional<int64_t> millis) {
      return millis ? fmt::format("{} ({} ms)", FormatRfc3339Millis(*millis),
                                  *millis)
                    : std::string("beyond year 292 million");
    };
    line("layout", fmt::format("{}/{}/{} (time/worker/sequence bits)",
                               layout->time_bits(), layout->worker_bits(),
                               layout->sequence_bits()));
    line("unit", fmt::format("{} ms", layout->unit_millis()));
    line("epoch", time(epoch));
    line("ids per tick", std::to_string(limits.ids_per_tick));
    line("workers", std::to_string(limits.workers));
    line("ids/s per worker", FormatRate(limits.ids_per_second));
    line("ids/s cluster", FormatRate(cluster_rate));
    line("range", fmt::format("{:.1f} years", limits.years));
    line("time runs out", time(runs_out));
    line(
        fmt::format("over {}", kJsLimitName),
        js_unsafe_from ? "from " + time(js_unsafe_from) : std::string("never"));
  }
  if (js_unsafe_from) {
    reporter.Warn(fmt::format(
        "IDs exceed {} (JavaScript's safe integer limit) from {}; send them "
        "to JavaScript as strings",
        kJsLimitName, FormatRfc3339Millis(*js_unsafe_from)));
  }
  return kExitOk;
}

// Reads IDs (arguments or stdin) in `from` and prints each in `to`.
int Convert(const Reporter& reporter, const std::vector<std::string>& inputs,
            Encoding from, Encoding to, Io& io) {
  return ForEachInput(inputs, io.in,
                      [&](std::string_view text, int64_t stdin_line) {
                        const std::optional<uint64_t> id =
                            ParseInput(reporter, text, stdin_line, from);
                        if (!id) return kExitBadData;
                        io.out << EncodeId(*id, to) << '\n';
                        return kExitOk;
                      });
}

int Encode(const EncodeFlags& flags, Io& io) {
  const Reporter reporter(io.err, "encode");
  const std::optional<Encoding> from =
      ResolveEncoding(reporter, "--from", flags.from);
  if (!from) return kExitUsage;
  const std::optional<Encoding> to =
      ResolveEncoding(reporter, "--to", flags.to);
  if (!to) return kExitUsage;
  return Convert(reporter, flags.ids, *from, *to, io);
}

int Parse(const ParseFlags& flags, Io& io) {
  const Reporter reporter(io.err, "parse");
  const std::optional<Encoding> from =
      ResolveEncoding(reporter, "--from", flags.from);
  if (!from) return kExitUsage;
  return Convert(reporter, flags.texts, *from, Encoding::kDecimal, io);
}

}  // namespace snowflake::cli
