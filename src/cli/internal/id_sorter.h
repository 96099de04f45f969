// Exact duplicate detection over more IDs than fit in memory: IDs are
// gathered in a bounded buffer, each full buffer is sorted and spilled to a
// run file, and the runs are merged, so that equal IDs meet. Memory is the
// buffer (8 bytes an ID) plus a small read buffer per run.
#ifndef SNOWFLAKE_CLI_INTERNAL_ID_SORTER_H_
#define SNOWFLAKE_CLI_INTERNAL_ID_SORTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snowflake::cli::internal {

// Not thread-safe. Not copyable. Removes its run files when destroyed.
class IdSorter {
 public:
  // `temp_dir`: where runs are spilled (a fresh folder is made inside it);
  // `buffer_ids`: IDs held in memory before a spill (>= 1). Errors:
  // kInvalidArgument for a bad buffer size, kUnavailable when the folder
  // cannot be made (naming it).
  static absl::StatusOr<std::unique_ptr<IdSorter>> Create(
      const std::string& temp_dir, int64_t buffer_ids);
  ~IdSorter();
  IdSorter(const IdSorter&) = delete;
  IdSorter& operator=(const IdSorter&) = delete;

  // Adds one ID. Errors: kUnavailable when a spill cannot be written (disk
  // full: the message names the file).
  absl::Status Add(uint64_t id);

  // Calls `each(id, count)` for every distinct ID added, in increasing
  // order, `count` being how many times it was added. Call once, after the
  // last Add. Errors: kUnavailable when a run cannot be read back.
  absl::Status Finish(const std::function<void(uint64_t, uint64_t)>& each);

  int64_t runs() const { return static_cast<int64_t>(runs_.size()); }

 private:
  IdSorter(std::string dir, int64_t buffer_ids);
  absl::Status Spill();

  const std::string dir_;
  const size_t buffer_ids_;
  std::vector<uint64_t> buffer_;
  std::vector<std::string> runs_;
};

}  // namespace snowflake::cli::internal

#endif  // SNOWFLAKE_CLI_INTERNAL_ID_SORTER_H_
