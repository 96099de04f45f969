#include "src/zookeeper/internal/log.h"

#include <zookeeper/zookeeper.h>

#include <cstdio>
#include <functional>
#include <string_view>
#include <utility>

#include "src/base/mutex.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::zookeeper {
namespace {

// Process-wide, as the C client's level is.
struct LogOutput {
  Mutex mu;
  bool level_chosen ABSL_GUARDED_BY(mu) = false;
  std::function<void(std::string_view)> sink ABSL_GUARDED_BY(mu);
};

LogOutput& Output() {
  static LogOutput* const output = new LogOutput;
  return *output;
}

ZooLogLevel ToZooLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return ZOO_LOG_LEVEL_ERROR;
    case LogLevel::kWarn:
      return ZOO_LOG_LEVEL_WARN;
    case LogLevel::kInfo:
      return ZOO_LOG_LEVEL_INFO;
    case LogLevel::kDebug:
      return ZOO_LOG_LEVEL_DEBUG;
  }
  return ZOO_LOG_LEVEL_WARN;
}

}  // namespace

void SetLogOutput(LogLevel level, std::function<void(std::string_view)> sink) {
  LogOutput& output = Output();
  MutexLock lock(&output.mu);
  output.level_chosen = true;
  output.sink = std::move(sink);
  zoo_set_debug_level(ToZooLevel(level));
}

namespace internal {

void LogLine(const char* message) {
  std::string_view line(message != nullptr ? message : "");
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  LogOutput& output = Output();
  MutexLock lock(&output.mu);
  if (output.sink) {
    output.sink(line);
  } else {
    std::fprintf(stderr, "zookeeper: %.*s\n", static_cast<int>(line.size()),
                 line.data());
  }
}

void SetDefaultLogLevelOnce() {
  LogOutput& output = Output();
  MutexLock lock(&output.mu);
  if (output.level_chosen) return;
  output.level_chosen = true;
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
}

}  // namespace internal
}  // namespace snowflake::zookeeper
