#include "src/server/internal/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"

namespace snowflake::internal {

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  std::ifstream stat_file("/proc/self/stat");
  std::string line;
  // Fields after the command name, which may hold spaces and parentheses:
  // the last ')' ends it. proc(5) numbers them from 1: state is 3, utime
  // 14, stime 15, vsize 23, rss 24 (pages).
  if (std::getline(stat_file, line)) {
    if (const size_t end = line.rfind(')'); end != std::string::npos) {
      std::istringstream fields(line.substr(end + 1));
      std::string field;
      int64_t utime = -1;
      int64_t stime = -1;
      int64_t pages = -1;
      for (int index = 3; fields >> field && index <= 24; ++index) {
        int64_t value = -1;
        if (!absl::SimpleAtoi(field, &value)) continue;
        if (index == 14) utime = value;
        if (index == 15) stime = value;
        if (index == 23) stats.virtual_bytes = value;
        if (index == 24) pages = value;
      }
      const int64_t ticks = sysconf(_SC_CLK_TCK);
      if (utime >= 0 && stime >= 0 && ticks > 0) {
        stats.cpu_seconds =
            static_cast<double>(utime + stime) / static_cast<double>(ticks);
      }
      if (pages >= 0) stats.resident_bytes = pages * sysconf(_SC_PAGESIZE);
    }
  }
  std::error_code error;
  int64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end;
       !error && it != end; it.increment(error)) {
    ++fds;
  }
  // The iterator's own descriptor was open while counting.
  if (!error && fds > 0) stats.open_fds = fds - 1;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    stats.max_fds = limit.rlim_cur == RLIM_INFINITY
                        ? -1
                        : static_cast<int64_t>(limit.rlim_cur);
  }
  return stats;
}

}  // namespace snowflake::internal
