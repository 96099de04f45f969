// Process-wide logging: spdlog to stderr, one line per event, key=value.
#ifndef SNOWFLAKE_SRC_SERVER_LOGGING_H_
#define SNOWFLAKE_SRC_SERVER_LOGGING_H_

#include <string_view>

namespace snowflake {

// Installs the default logger. `level`: trace ... off (as validated by the
// config); `format`: "text" (`2025-01-01T00:00:00.000Z info event=...`) or
// "json" ({"ts":...,"level":...,"msg":"event=..."}). Call once, early.
void SetUpLogging(std::string_view level, std::string_view format);

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_LOGGING_H_
