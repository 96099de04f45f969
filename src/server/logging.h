// Process-wide logging: spdlog to stderr, one line per event, key=value.
#ifndef SNOWFLAKE_SRC_SERVER_LOGGING_H_
#define SNOWFLAKE_SRC_SERVER_LOGGING_H_

#include <string>
#include <string_view>

namespace snowflake {

// Installs the default logger. `level`: trace ... off (as validated by the
// config); `format`: "text" (`2025-01-01T00:00:00.000Z info event=...`) or
// "json" (one object a line: {"ts":...,"level":...,"event":...,...}, each
// key=value of the message as its own key). Call once, early.
void SetUpLogging(std::string_view level, std::string_view format);

// One json-format log line (without the newline) for a message written as
// `event=name key=value key="quoted value" ...`: "ts" and "level" first,
// then each key in the message's order. A bare whole number becomes a JSON
// number, every other value a string; a quoted value ends at a quote
// followed by the end or by ` key=` (so an unescaped quote inside survives)
// and takes \" and \\ as escapes. Text that is not key=value goes to "msg";
// a repeated key gets a suffix (_2, ...). Invalid UTF-8 is replaced, so the
// result always parses. Thread-safe.
std::string JsonLogLine(std::string_view ts, std::string_view level,
                        std::string_view message);

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_LOGGING_H_
