// `snowflake audit`: reads IDs collected anywhere (a test's history, a
// table's primary keys, a log) and checks the promise: no ID twice, every
// worker inside its expected range, no ID timed in the future, and, where
// each input is one source's IDs in the order received, every worker's IDs
// increasing. Exact, with bounded memory: IDs are sorted in runs spilled to
// a temporary folder and merged (internal/id_sorter.h).
#ifndef SNOWFLAKE_CLI_AUDIT_H_
#define SNOWFLAKE_CLI_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "snowflake/clock.h"
#include "src/cli/commands.h"

namespace snowflake::cli {

struct AuditFlags {
  LayoutFlags layout;
  // "text": one ID a line in `encoding` (blank lines skipped); "binary":
  // big-endian unsigned 64-bit IDs, 8 bytes each.
  std::string format = "text";
  std::string encoding = "decimal";
  // Expected workers: a range "A-B", or a region map (snowflaked's
  // --regions) whose ranges together are the expected workers, or with
  // `region` only that region's. Empty: every worker of the layout.
  std::string worker_range;
  std::string regions;
  std::string region;
  // IDs timed later than the clock plus this are "in the future".
  int64_t max_future_millis = 1000;
  // Each input is one source's IDs in the order received: check that every
  // worker's IDs increase within it.
  bool ordered = false;
  bool json = false;
  std::string temp_dir;                   // For sorted runs; empty: $TMPDIR.
  int64_t buffer_ids = int64_t{1} << 25;  // 256 MiB of IDs in memory.
  std::vector<std::string> inputs;        // Files; "-" or none: stdin.
};

// Reads every input and prints the findings (a report, or with `json` one
// JSON object) and a summary per worker. Exit codes: kExitOk when nothing
// is wrong; kExitBadData (1) when anything is (a duplicate, an invalid
// line, a worker outside the range, an ID in the future, one out of
// order), or an input or the temporary folder cannot be read or written;
// kExitUsage for bad flags. `clock` gives "now" as each ID is read.
int Audit(const AuditFlags& flags, Clock& clock, Io& io);

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_AUDIT_H_
