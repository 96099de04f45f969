// The process's own resource use, read from /proc for the standard
// `process_*` metrics that every Prometheus client library exports (CPU,
// memory, file descriptors), so the usual dashboards and alerts work.
#ifndef SNOWFLAKE_SRC_SERVER_INTERNAL_PROCESS_STATS_H_
#define SNOWFLAKE_SRC_SERVER_INTERNAL_PROCESS_STATS_H_

#include <cstdint>

namespace snowflake::internal {

// A field that could not be read is negative (and left out of /metrics).
struct ProcessStats {
  double cpu_seconds = -1;  // User + system time.
  int64_t resident_bytes = -1;
  int64_t virtual_bytes = -1;
  int64_t open_fds = -1;
  int64_t max_fds = -1;  // The soft RLIMIT_NOFILE.
};

// Reads /proc/self/stat, /proc/self/fd and the file limit. Thread-safe; a
// few system calls, meant for a scrape (not for the ID path).
ProcessStats ReadProcessStats();

}  // namespace snowflake::internal

#endif  // SNOWFLAKE_SRC_SERVER_INTERNAL_PROCESS_STATS_H_
