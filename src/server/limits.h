// Every limit of the node in one place: the defaults that configuration may
// override, and the hard bounds it is checked against.
#ifndef SNOWFLAKE_SRC_SERVER_LIMITS_H_
#define SNOWFLAKE_SRC_SERVER_LIMITS_H_

#include <cstdint>

namespace snowflake::limits {

// Largest `count` of GET /v1/ids; larger batches get 413.
inline constexpr int64_t kDefaultMaxBatch = 100'000;
// 16 M IDs are 128 MiB in binary: the most a configuration may allow.
inline constexpr int64_t kMaxMaxBatch = 16'000'000;

// Request line plus headers; larger requests get 431 and are closed.
inline constexpr int64_t kDefaultMaxHeaderBytes = 8 * 1024;
inline constexpr int64_t kMaxMaxHeaderBytes = 1024 * 1024;

// Requests carry no body. A request that declares one (any
// Transfer-Encoding, or a Content-Length above this) is answered from its
// header alone (413; a method no route has gets 405 with Allow) and the
// connection closed: the body is never read, so no request can buffer more
// than its header (max_header_bytes) plus one read. Not configurable.
inline constexpr int64_t kMaxBodyBytes = 0;

// An idle keep-alive connection is closed after this long.
inline constexpr int64_t kDefaultIdleTimeoutMillis = 60'000;
// Once a request's first byte has arrived, the rest of its header must
// arrive within this long (a slow client cannot hold a connection), and a
// response must be taken by the client within it.
inline constexpr int64_t kDefaultHeaderTimeoutMillis = 10'000;

// Connections beyond this are closed as soon as they are accepted.
inline constexpr int64_t kDefaultMaxConnections = 10'000;

// File descriptors kept for the node itself beside its connections (the
// listener, the I/O threads' polling, log output, HWM file writes, etcd
// channels). At start, max_connections is lowered to RLIMIT_NOFILE minus
// this; running out would stop accepting and storing the high-water mark.
inline constexpr int64_t kReservedFileDescriptors = 64;
// The fewest connections the node starts with: below this many descriptors
// past the reserve it refuses to start.
inline constexpr int64_t kMinConnections = 16;

// On SIGTERM, requests in flight get this long to finish.
inline constexpr int64_t kDefaultDrainTimeoutMillis = 10'000;

// On start, how long to wait for the clock to pass the stored high-water
// mark before refusing to start. At least the outage budget in coordinator
// mode: a successor of a crashed node may have to wait that long.
inline constexpr int64_t kDefaultMaxStartWaitMillis = 90'000;
inline constexpr int64_t kMaxMaxStartWaitMillis = 86'400'000;

// Coordinator mode: how far ahead of the clock the stored high-water mark is
// kept, i.e. how long a coordinator outage stops nobody.
inline constexpr int64_t kDefaultOutageBudgetSeconds = 60;
inline constexpr int64_t kMaxOutageBudgetSeconds = 86'400;

// Coordinator mode: how often the stored high-water mark is raised.
inline constexpr int64_t kDefaultHwmWriteIntervalMillis = 2'000;
inline constexpr int64_t kMinHwmWriteIntervalMillis = 100;

// The largest clock difference assumed between any two nodes.
inline constexpr int64_t kDefaultMaxClockSkewMillis = 1'000;

// The longest start timeout (0 in configuration: wait forever).
inline constexpr int64_t kMaxStartTimeoutSeconds = 7 * 86'400;

// How far ahead of the clock the high-water mark is kept.
inline constexpr int64_t kDefaultHwmReserveMillis = 5'000;

// Upper bound on I/O threads (0 in configuration: one per core).
inline constexpr int64_t kMaxThreads = 1024;

}  // namespace snowflake::limits

#endif  // SNOWFLAKE_SRC_SERVER_LIMITS_H_
