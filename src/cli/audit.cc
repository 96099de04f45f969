#include "src/cli/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "src/base/strings.h"
#include "src/cli/internal/id_sorter.h"
#include "src/lease/region_map.h"

namespace snowflake::cli {
namespace {

using Json = nlohmann::ordered_json;
using base::OneLine;
using base::StdView;

// Examples kept of each kind of finding.
constexpr size_t kExamples = 10;

int Fail(Io& io, int exit_code, std::string_view message) {
  io.err << "snowflake: audit: " << OneLine(message) << '\n';
  return exit_code;
}

// One kind of finding: how many, and the first few.
struct Finding {
  uint64_t count = 0;
  std::vector<Json> examples;

  void Add(Json example) {
    ++count;
    if (examples.size() < kExamples) examples.push_back(std::move(example));
  }
};

struct WorkerSummary {
  uint64_t count = 0;
  int64_t first_tick = INT64_MAX;
  int64_t last_tick = INT64_MIN;
};

class Auditor {
 public:
  Auditor(const AuditFlags& flags, Layout layout,
          std::vector<WorkerRange> expected, Clock& clock,
          std::unique_ptr<internal::IdSorter> sorter)
      : flags_(flags),
        layout_(layout),
        expected_(std::move(expected)),
        clock_(clock),
        sorter_(std::move(sorter)) {}

  // Reads one input; false (reported) on a read or spill error.
  bool Read(const std::string& name, std::istream& in, Io& io) {
    std::map<int64_t, uint64_t> last_by_worker;  // This source's.
    // `where_of()` names the ID's place in the input; it is called only
    // for a finding (formatting it for every ID would cost more than the
    // rest of the audit).
    auto take = [&](uint64_t id, const auto& where_of) {
      // "Now" when the ID is read: inputs may be streams still being
      // written (a fresh ID is not in the future). Read every 4,096 IDs.
      if (ids_++ % 4096 == 0) now_millis_ = clock_.NowMicros() / 1000;
      if (absl::Status s = sorter_->Add(id); !s.ok()) {
        error_ = std::string(s.message());
        return false;
      }
      absl::StatusOr<IdParts> parts = layout_.Decompose(id);
      if (!parts.ok()) {
        invalid_.Add({{"where", where_of()},
                      {"id", std::to_string(id)},
                      {"error", StdView(parts.status().message())}});
        return true;
      }
      WorkerSummary& worker = workers_[parts->worker];
      ++worker.count;
      worker.first_tick = std::min(worker.first_tick, parts->tick);
      worker.last_tick = std::max(worker.last_tick, parts->tick);
      if (!Expected(parts->worker)) {
        outside_.Add(Describe(id, *parts, where_of()));
      }
      if (layout_.MillisOfTick(parts->tick) >
          now_millis_ + flags_.max_future_millis) {
        future_.Add(Describe(id, *parts, where_of()));
      }
      if (flags_.ordered) {
        auto [it, fresh] = last_by_worker.emplace(parts->worker, id);
        if (!fresh) {
          if (id <= it->second) {
            Json example = Describe(id, *parts, where_of());
            example["after"] = std::to_string(it->second);
            out_of_order_.Add(std::move(example));
          }
          it->second = std::max(it->second, id);
        }
      }
      return true;
    };

    if (flags_.format == "binary") {
      char bytes[8];
      for (uint64_t index = 0;; ++index) {
        in.read(bytes, sizeof(bytes));
        const std::streamsize got = in.gcount();
        if (got == 0) break;
        if (got != sizeof(bytes)) {
          invalid_.Add({{"where", fmt::format("{} byte {}", name, index * 8)},
                        {"error", fmt::format("{} trailing bytes, not a whole "
                                              "8-byte ID",
                                              got)}});
          break;
        }
        uint64_t id = 0;
        for (char byte : bytes) id = (id << 8) | static_cast<uint8_t>(byte);
        const auto where_of = [&] {
          return fmt::format("{} ID {}", name, index + 1);
        };
        if (!take(id, where_of)) break;
      }
    } else {
      std::string line;
      for (int64_t number = 1; std::getline(in, line); ++number) {
        const std::string_view text = base::Trim(line);
        if (text.empty()) continue;
        absl::StatusOr<uint64_t> id = ParseId(text, encoding_);
        const auto where_of = [&] {
          return fmt::format("{}:{}", name, number);
        };
        if (!id.ok()) {
          invalid_.Add({{"where", where_of()},
                        {"text", base::Quote(text)},
                        {"error", StdView(id.status().message())}});
          continue;
        }
        if (!take(*id, where_of)) break;
      }
    }
    if (!error_.empty()) {
      Fail(io, kExitBadData, error_);
      return false;
    }
    if (in.bad()) {
      Fail(io, kExitBadData, fmt::format("cannot read {}", name));
      return false;
    }
    return true;
  }

  // Merges the sorted runs; false (reported) on a read error.
  bool FindDuplicates(Io& io) {
    absl::Status merged = sorter_->Finish([this](uint64_t id, uint64_t count) {
      ++distinct_;
      if (count < 2) return;
      extra_copies_ += count - 1;
      absl::StatusOr<IdParts> parts = layout_.Decompose(id);
      Json example = parts.ok() ? Describe(id, *parts, "")
                                : Json{{"id", std::to_string(id)}};
      example.erase("where");
      example["count"] = count;
      duplicates_.Add(std::move(example));
    });
    if (!merged.ok()) {
      Fail(io, kExitBadData, StdView(merged.message()));
      return false;
    }
    return true;
  }

  bool ok() const {
    return duplicates_.count == 0 && invalid_.count == 0 &&
           outside_.count == 0 && future_.count == 0 &&
           out_of_order_.count == 0;
  }

  Json ToJson(size_t inputs) const {
    Json json;
    json["ok"] = ok();
    json["ids"] = ids_;
    json["distinct"] = distinct_;
    json["inputs"] = inputs;
    json["layout"] = layout_.ToString();
    json["expected_workers"] = ExpectedText();
    json["sorted_runs"] = sorter_->runs();
    auto finding = [](const Finding& f) {
      return Json{{"count", f.count}, {"examples", f.examples}};
    };
    json["duplicates"] = finding(duplicates_);
    json["duplicates"]["extra_copies"] = extra_copies_;
    json["invalid"] = finding(invalid_);
    json["outside_range"] = finding(outside_);
    json["future"] = finding(future_);
    json["out_of_order"] = finding(out_of_order_);
    json["out_of_order"]["checked"] = flags_.ordered;
    Json workers = Json::array();
    for (const auto& [worker, summary] : workers_) {
      workers.push_back(
          {{"worker", worker},
           {"count", summary.count},
           {"first",
            FormatRfc3339Millis(layout_.MillisOfTick(summary.first_tick))},
           {"last",
            FormatRfc3339Millis(layout_.MillisOfTick(summary.last_tick))}});
    }
    json["workers"] = std::move(workers);
    return json;
  }

  void PrintText(size_t inputs, std::ostream& out) const {
    out << fmt::format(
        "audit: {} IDs ({} distinct) from {} input{}, layout {}\n", ids_,
        distinct_, inputs, inputs == 1 ? "" : "s", layout_.ToString());
    auto line = [&out](std::string_view what, const Finding& f) {
      out << fmt::format("{:<28} {}\n", what, f.count);
      for (const Json& example : f.examples) {
        out << "  "
            << example.dump(-1, ' ', false, Json::error_handler_t::replace)
            << '\n';
      }
    };
    line(fmt::format("duplicates ({} extra)", extra_copies_), duplicates_);
    line("invalid", invalid_);
    line(fmt::format("worker outside {}", ExpectedText()), outside_);
    line(fmt::format("in the future (> +{} ms)", flags_.max_future_millis),
         future_);
    if (flags_.ordered) {
      line("out of order", out_of_order_);
    } else {
      out << fmt::format("{:<28} not checked (--ordered)\n", "out of order");
    }
    out << fmt::format("\n{:>8}  {:>12}  {:<24}  {}\n", "WORKER", "COUNT",
                       "FIRST", "LAST");
    for (const auto& [worker, summary] : workers_) {
      out << fmt::format(
          "{:>8}  {:>12}  {:<24}  {}\n", worker, summary.count,
          FormatRfc3339Millis(layout_.MillisOfTick(summary.first_tick)),
          FormatRfc3339Millis(layout_.MillisOfTick(summary.last_tick)));
    }
    out << (ok() ? "\nverdict: OK\n" : "\nverdict: FAIL\n");
  }

  void set_encoding(Encoding encoding) { encoding_ = encoding; }

 private:
  bool Expected(int64_t worker) const {
    if (expected_.empty()) return true;
    return std::any_of(
        expected_.begin(), expected_.end(),
        [worker](const WorkerRange& r) { return r.Contains(worker); });
  }

  std::string ExpectedText() const {
    if (expected_.empty()) return "the layout";
    std::string text;
    for (const WorkerRange& r : expected_) {
      if (!text.empty()) text += ",";
      text += r.ToString();
    }
    return text;
  }

  Json Describe(uint64_t id, const IdParts& parts,
                std::string_view where) const {
    return {{"where", where},
            {"id", std::to_string(id)},
            {"time", FormatRfc3339Millis(layout_.MillisOfTick(parts.tick))},
            {"worker", parts.worker},
            {"sequence", parts.sequence}};
  }

  const AuditFlags& flags_;
  const Layout layout_;
  const std::vector<WorkerRange> expected_;
  Clock& clock_;
  int64_t now_millis_ = 0;
  std::unique_ptr<internal::IdSorter> sorter_;
  Encoding encoding_ = Encoding::kDecimal;
  uint64_t ids_ = 0;
  uint64_t distinct_ = 0;
  uint64_t extra_copies_ = 0;
  Finding duplicates_;
  Finding invalid_;
  Finding outside_;
  Finding future_;
  Finding out_of_order_;
  std::map<int64_t, WorkerSummary> workers_;
  std::string error_;
};

// The expected worker ranges the flags give (empty: any worker).
absl::StatusOr<std::vector<WorkerRange>> ExpectedWorkers(
    const AuditFlags& flags, const Layout& layout) {
  std::vector<WorkerRange> expected;
  if (!flags.worker_range.empty()) {
    absl::StatusOr<WorkerRange> range = ParseWorkerRange(flags.worker_range);
    if (!range.ok()) return range.status();
    expected.push_back(*range);
  }
  if (!flags.regions.empty()) {
    absl::StatusOr<RegionMap> map = RegionMap::Parse(flags.regions);
    if (!map.ok()) return map.status();
    if (absl::Status s = map->Validate(layout.max_worker()); !s.ok()) return s;
    if (!flags.region.empty()) {
      std::optional<WorkerRange> range = map->Find(flags.region);
      if (!range) {
        return absl::InvalidArgumentError(
            fmt::format("--region {} is not in the region map ({})",
                        flags.region, map->Names()));
      }
      expected.push_back(*range);
    } else {
      for (const auto& [name, range] : map->regions()) {
        expected.push_back(range);
      }
    }
  } else if (!flags.region.empty()) {
    return absl::InvalidArgumentError("--region needs --regions (the map)");
  }
  return expected;
}

}  // namespace

int Audit(const AuditFlags& flags, Clock& clock, Io& io) {
  absl::StatusOr<Layout> layout = ResolveLayout(flags.layout);
  if (!layout.ok()) {
    return Fail(io, kExitUsage, StdView(layout.status().message()));
  }
  if (flags.format != "text" && flags.format != "binary") {
    return Fail(io, kExitUsage,
                fmt::format("--format {}: use text or binary", flags.format));
  }
  absl::StatusOr<Encoding> encoding = ParseEncodingName(flags.encoding);
  if (!encoding.ok()) {
    return Fail(
        io, kExitUsage,
        fmt::format("--encoding: {}", StdView(encoding.status().message())));
  }
  if (flags.max_future_millis < 0) {
    return Fail(io, kExitUsage, "--max-future-ms must be >= 0");
  }
  absl::StatusOr<std::vector<WorkerRange>> expected =
      ExpectedWorkers(flags, *layout);
  if (!expected.ok()) {
    return Fail(io, kExitUsage, StdView(expected.status().message()));
  }
  absl::StatusOr<std::unique_ptr<internal::IdSorter>> sorter =
      internal::IdSorter::Create(flags.temp_dir, flags.buffer_ids);
  if (!sorter.ok()) {
    return Fail(io,
                sorter.status().code() == absl::StatusCode::kInvalidArgument
                    ? kExitUsage
                    : kExitBadData,
                StdView(sorter.status().message()));
  }

  Auditor auditor(flags, *layout, *std::move(expected), clock,
                  *std::move(sorter));
  auditor.set_encoding(*encoding);
  std::vector<std::string> inputs = flags.inputs;
  if (inputs.empty()) inputs.push_back("-");
  for (const std::string& input : inputs) {
    if (input == "-") {
      if (!auditor.Read("stdin", io.in, io)) return kExitBadData;
      continue;
    }
    std::ifstream file(input, std::ios::binary);
    if (!file) {
      return Fail(io, kExitBadData, fmt::format("cannot open {}", input));
    }
    if (!auditor.Read(input, file, io)) return kExitBadData;
  }
  if (!auditor.FindDuplicates(io)) return kExitBadData;
  if (flags.json) {
    io.out << auditor.ToJson(inputs.size())
                  .dump(2, ' ', false, Json::error_handler_t::replace)
           << '\n';
  } else {
    auditor.PrintText(inputs.size(), io.out);
  }
  return auditor.ok() ? kExitOk : kExitBadData;
}

}  // namespace snowflake::cli
