// Routes the C client's log lines (see SetLogOutput in zookeeper_client.h).
#ifndef SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_LOG_H_
#define SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_LOG_H_

namespace snowflake::zookeeper::internal {

// The per-handle log callback given to zookeeper_init2: passes `message` to
// the sink SetLogOutput chose. Thread-safe.
void LogLine(const char* message);

// Sets the C client's level to kWarn unless SetLogOutput already chose one.
// Called by Connect, before it makes a handle.
void SetDefaultLogLevelOnce();

}  // namespace snowflake::zookeeper::internal

#endif  // SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_LOG_H_
