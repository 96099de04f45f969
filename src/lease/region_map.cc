#include "src/lease/region_map.h"

#include <utility>

#include "src/base/strings.h"

namespace snowflake {
namespace {

constexpr size_t kMaxNameLength = 64;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Entry(std::string_view name, const WorkerRange& range) {
  return std::string(name) + "=" + range.ToString();
}

}  // namespace

std::string WorkerRange::ToString() const {
  return std::to_string(first) + "-" + std::to_string(last);
}

absl::StatusOr<WorkerRange> ParseWorkerRange(std::string_view text) {
  const std::string_view trimmed = base::Trim(text);
  const size_t dash = trimmed.find('-');
  int64_t first = 0;
  int64_t last = 0;
  if (dash == std::string_view::npos ||
      !base::ParseInt(trimmed.substr(0, dash), first) ||
      !base::ParseInt(trimmed.substr(dash + 1), last) || first < 0 ||
      last < first) {
    return absl::InvalidArgumentError(
        "worker range \"" + std::string(text) +
        "\": expected A-B with 0 <= A <= B, e.g. 0-341");
  }
  return WorkerRange{first, last};
}

absl::StatusOr<RegionMap> RegionMap::Parse(std::string_view text) {
  RegionMap map;
  if (base::Trim(text).empty()) return map;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view entry =
        base::Trim(text.substr(start, comma - start));
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return absl::InvalidArgumentError("region map entry \"" +
                                        std::string(entry) +
                                        "\": expected NAME=A-B, e.g. us=0-341");
    }
    const std::string_view name = base::Trim(entry.substr(0, equals));
    absl::StatusOr<WorkerRange> range =
        ParseWorkerRange(entry.substr(equals + 1));
    if (!range.ok()) {
      return absl::InvalidArgumentError(
          "region map entry \"" + std::string(entry) +
          "\": expected NAME=A-B with 0 <= A <= B, e.g. us=0-341");
    }
    if (absl::Status status = map.Add(name, *range); !status.ok()) {
      return status;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return map;
}

absl::Status RegionMap::Add(std::string_view name, WorkerRange range) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        "region map entry \"" + Entry(name, range) +
        "\": a region name is 1 to 64 letters, digits, '_' or '-'");
  }
  if (range.first < 0 || range.last < range.first) {
    return absl::InvalidArgumentError("region map entry \"" +
                                      Entry(name, range) +
                                      "\": needs 0 <= first <= last");
  }
  if (regions_.find(name) != regions_.end()) {
    return absl::InvalidArgumentError("region map: region \"" +
                                      std::string(name) + "\" appears twice");
  }
  for (const auto& [other, other_range] : regions_) {
    if (other_range.Overlaps(range)) {
      return absl::InvalidArgumentError(
          "region map: the ranges of regions " + Entry(other, other_range) +
          " and " + Entry(name, range) +
          " overlap; regions must not share worker IDs");
    }
  }
  regions_.emplace(std::string(name), range);
  return absl::OkStatus();
}

absl::Status RegionMap::Validate(int64_t max_worker) const {
  for (const auto& [name, range] : regions_) {
    if (range.last > max_worker) {
      return absl::InvalidArgumentError(
          "region map: region " + Entry(name, range) +
          " lies outside the layout's worker IDs 0-" +
          std::to_string(max_worker));
    }
  }
  return absl::OkStatus();
}

std::optional<WorkerRange> RegionMap::Find(std::string_view region) const {
  auto it = regions_.find(region);
  if (it == regions_.end()) return std::nullopt;
  return it->second;
}

std::string RegionMap::ToString() const {
  std::string out;
  for (const auto& [name, range] : regions_) {
    if (!out.empty()) out += ',';
    out += Entry(name, range);
  }
  return out;
}

std::string RegionMap::Names() const {
  if (regions_.empty()) return "none";
  std::string out;
  for (const auto& [name, range] : regions_) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace snowflake
