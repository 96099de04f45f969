// Every default and limit of the node in one place: the defaults that
// configuration may override (the settings table, internal/settings.cc,
// and Config take theirs from here; internal/settings_test.cc holds the
// option structs to them), and the hard bounds configuration is checked
// against. Header-only, without dependencies, so that the `snowflake` tool
// shares the defaults of the flags it has in common with snowflaked.
#ifndef SNOWFLAKE_SRC_SERVER_LIMITS_H_
#define SNOWFLAKE_SRC_SERVER_LIMITS_H_

#include <cstdint>

namespace snowflake::limits {

// Where the node serves HTTP (listen = HOST:PORT).
inline constexpr char kDefaultListenHost[] = "127.0.0.1";
inline constexpr int kDefaultListenPort = 8080;
// I/O threads; 0: one per core.
inline constexpr int kDefaultThreads = 0;

// Where the node serves gRPC (grpc_listen = HOST:PORT); empty: it does not.
inline constexpr char kDefaultGrpcListen[] = "";
// Where the node serves its status page and operator routes apart from the
// API (admin_listen = HOST:PORT); empty: on the main port, beside the API.
inline constexpr char kDefaultAdminListen[] = "";
// The admin listener serves people and scrapers, not ID traffic: one I/O
// thread, and few connections, so it takes nothing from the API's.
inline constexpr int kAdminThreads = 1;
inline constexpr int64_t kAdminMaxConnections = 64;
// gRPC calls run on threads of their own, one per call in progress (a
// unary call, an open StreamIds or health Watch). Calls beyond this many at
// once are refused with RESOURCE_EXHAUSTED rather than queued.
inline constexpr int kMaxGrpcThreads = 512;
// A gRPC request is a few bytes (a count, an ID, a service name); a larger
// one is refused (RESOURCE_EXHAUSTED) before it is read.
inline constexpr int kMaxGrpcRequestBytes = 4 * 1024;
// How often an open health Watch re-reads the node's readiness, and how
// soon it notices that its client went away.
inline constexpr int64_t kHealthWatchPollMillis = 100;
// The status page's cluster view (cluster_status.h): read from the
// coordinator at most this often, and only while someone polls the page;
// each call to the coordinator given up after the timeout.
inline constexpr int64_t kClusterRefreshMillis = 1'000;
inline constexpr int64_t kClusterReadTimeoutMillis = 2'000;

// The layout: a preset name or TIME/WORKER/SEQUENCE widths.
inline constexpr char kDefaultLayout[] = "default";

// "wall" or "monotonic".
inline constexpr char kDefaultClockSource[] = "wall";
// The clock may be this far behind the last ID before requests fail.
inline constexpr int64_t kDefaultToleranceMillis = 5;
// How far a burst may run ahead of the clock; 0: never.
inline constexpr int64_t kDefaultMaxBorrowMillis = 0;
// 0: every tick's sequence starts at 0.
inline constexpr int64_t kDefaultSequenceStartMax = 0;

// "static", "etcd" or "zookeeper", and the static worker ID.
inline constexpr char kDefaultWorkerMode[] = "static";
inline constexpr int64_t kDefaultWorkerId = 0;
// Worker IDs one node holds (--workers); 0: one per CPU it may run on.
inline constexpr int kDefaultWorkers = 1;
inline constexpr int kMaxWorkers = 256;
// Relative to the working directory (ignored by git in a checkout).
inline constexpr char kDefaultStateDir[] = "./state";

// Coordinator mode (etcd, zookeeper): the cluster's name.
inline constexpr char kDefaultCluster[] = "default";

// etcd mode. The key prefix is cluster_schema::kDefaultPrefix, beside the key
// layout it begins.
inline constexpr char kDefaultEtcdEndpoints[] = "http://127.0.0.1:2379";
inline constexpr int64_t kDefaultLeaseTtlSeconds = 30;

// ZooKeeper mode. The root znode is cluster_schema::kDefaultPrefix too. The
// session timeout plays the lease TTL's part (renewal every third of it).
inline constexpr char kDefaultZooKeeperHosts[] = "127.0.0.1:2181";
inline constexpr int64_t kDefaultSessionTimeoutSeconds = 30;

// The range of etcd.lease_ttl_s and zookeeper.session_timeout_s.
inline constexpr int64_t kMinCoordinatorTtlSeconds = 2;
inline constexpr int64_t kMaxCoordinatorTtlSeconds = 3600;
// How long a starting node retries its coordinator; 0: for ever.
inline constexpr int64_t kDefaultStartTimeoutSeconds = 0;

// Logging.
inline constexpr char kDefaultLogLevel[] = "info";
inline constexpr char kDefaultLogFormat[] = "text";
inline constexpr bool kDefaultAccessLog = false;

// Largest `count` of GET /v1/ids; larger batches get 413.
inline constexpr int64_t kDefaultMaxBatch = 100'000;
// 16 M IDs are 128 MiB in binary: the most a configuration may allow.
inline constexpr int64_t kMaxMaxBatch = 16'000'000;

// Request line plus headers; larger requests get 431 and are closed.
inline constexpr int64_t kDefaultMaxHeaderBytes = int64_t{8} * 1024;
inline constexpr int64_t kMaxMaxHeaderBytes = int64_t{1024} * 1024;

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

// Coordinator mode: once the clock is this far behind the last issued ID
// (stepped back, or back from a step forward), the node claims another
// worker ID rather than refusing until the clock catches up.
inline constexpr int64_t kDefaultSwitchWorkerBehindMillis = 10'000;

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
inline constexpr int64_t kMaxStartTimeoutSeconds = int64_t{7} * 86'400;

// How far ahead of the clock the high-water mark is kept.
inline constexpr int64_t kDefaultHwmReserveMillis = 5'000;

// Upper bound on I/O threads (0 in configuration: one per core).
inline constexpr int64_t kMaxThreads = 1024;

// The most IDs that may wait for the clock at once, as time at the
// layout's full rate: requests beyond it are refused at once (503 busy,
// retry) rather than queued behind seconds of sequence.
inline constexpr int64_t kMaxWaitingMillis = 1'000;

}  // namespace snowflake::limits

#endif  // SNOWFLAKE_SRC_SERVER_LIMITS_H_
