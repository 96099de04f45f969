// The region map (docs/operations.md): which worker IDs each region's nodes may
// claim, e.g. "us=0-341,eu=342-683". Every node of a cluster carries the same
// map, and the cluster's stored config keeps its canonical text, so that a
// node whose map differs refuses to start. Ranges never overlap: regions
// share no worker ID and never need to talk.
#ifndef SNOWFLAKE_SRC_LEASE_REGION_MAP_H_
#define SNOWFLAKE_SRC_LEASE_REGION_MAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake {

// Worker IDs first to last, both included.
struct WorkerRange {
  int64_t first = 0;
  int64_t last = 0;

  bool Contains(int64_t id) const { return id >= first && id <= last; }
  bool Contains(const WorkerRange& other) const {
    return other.first >= first && other.last <= last;
  }
  bool Overlaps(const WorkerRange& other) const {
    return first <= other.last && other.first <= last;
  }
  int64_t size() const { return last - first + 1; }
  // "A-B", e.g. "0-341".
  std::string ToString() const;

  friend bool operator==(const WorkerRange&, const WorkerRange&) = default;
};

// Parses "A-B" with 0 <= A <= B. Errors: kInvalidArgument naming the text.
absl::StatusOr<WorkerRange> ParseWorkerRange(std::string_view text);

// An immutable-after-construction value; safe to share once built. An empty
// map means the cluster has no regions.
class RegionMap {
 public:
  RegionMap() = default;

  // Parses "NAME=A-B[,NAME=A-B]..." (blanks around the pieces allowed; the
  // empty text is the empty map). Names are 1 to 64 of [A-Za-z0-9_-], so
  // that each is a bare TOML key. Errors: kInvalidArgument naming the entry
  // at fault: bad syntax, a name twice, or two overlapping ranges (naming
  // both regions and ranges).
  static absl::StatusOr<RegionMap> Parse(std::string_view text);

  // Adds one region. Errors: as Parse's, for this entry.
  absl::Status Add(std::string_view name, WorkerRange range);

  // Checks that every range lies within worker IDs 0 to `max_worker` (a
  // layout's). Errors: kInvalidArgument naming the region and its range.
  absl::Status Validate(int64_t max_worker) const;

  // The range of `region`, or nullopt when the map does not have it.
  std::optional<WorkerRange> Find(std::string_view region) const;

  bool empty() const { return regions_.empty(); }
  size_t size() const { return regions_.size(); }
  // Sorted by name.
  const std::map<std::string, WorkerRange, std::less<>>& regions() const {
    return regions_;
  }

  // The canonical text, sorted by name: "eu=342-683,us=0-341"; "" when
  // empty. Parse(ToString()) gives an equal map.
  std::string ToString() const;
  // The names, for messages: "eu, us"; "none" when empty.
  std::string Names() const;

  friend bool operator==(const RegionMap&, const RegionMap&) = default;

 private:
  std::map<std::string, WorkerRange, std::less<>> regions_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_REGION_MAP_H_
