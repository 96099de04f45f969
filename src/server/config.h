// The daemon's configuration: a TOML file, SNOWFLAKE_* environment
// variables and command-line flags, in rising order of precedence over the
// built-in defaults. Every setting has one file key, one flag and one
// environment variable (docs/configuration.md lists them).
#ifndef SNOWFLAKE_SRC_SERVER_CONFIG_H_
#define SNOWFLAKE_SRC_SERVER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "snowflake/layout.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/region_map.h"
#include "src/server/limits.h"

namespace snowflake {

// Where Config's worker range came from.
enum class WorkerRangeSource {
  kLayout,    // Neither worker.range nor a region map: all the layout's IDs.
  kExplicit,  // worker.range (inside the region's range, if there is a map).
  kRegion,    // The range of node.region in the region map.
};

// The validated, effective configuration. A default-constructed Config
// holds the defaults, the same values LoadConfig gives with no file, flag
// or variable (both take them from limits.h).
struct Config {
  std::string listen_host = limits::kDefaultListenHost;
  int listen_port = limits::kDefaultListenPort;
  int threads = limits::kDefaultThreads;  // 0: one per core.
  // HOST:PORT to serve gRPC on, as given (its port 1 to 65535, or 0: any);
  // empty: no gRPC.
  std::string grpc_listen = limits::kDefaultGrpcListen;
  // HOST:PORT of the admin listener (status page, /v1/status, /v1/info,
  // /metrics, /healthz, /readyz), as given; empty: those are served on the
  // main port.
  std::string admin_listen = limits::kDefaultAdminListen;
  // admin_listen parsed (unset while it is empty).
  std::string admin_listen_host;
  int admin_listen_port = 0;
  Layout layout;
  std::string clock_source = limits::kDefaultClockSource;
  int64_t tolerance_millis = limits::kDefaultToleranceMillis;
  int64_t max_borrow_millis = limits::kDefaultMaxBorrowMillis;
  int64_t sequence_start_max = limits::kDefaultSequenceStartMax;
  // static, etcd or zookeeper (the last two: coordinator mode).
  std::string worker_mode = limits::kDefaultWorkerMode;
  int64_t worker_id = limits::kDefaultWorkerId;
  // Worker IDs this node holds, one generator each (static mode: worker_id
  // to worker_id + workers - 1); 0: one per CPU it may run on (auto).
  int workers = limits::kDefaultWorkers;
  // Whether worker.id was set (file, env or flag) rather than defaulted:
  // several static nodes on the default ID 0 would issue duplicates.
  bool worker_id_explicit = false;
  // The worker-ID range this node may claim (coordinator mode), inclusive; -1
  // for range_last means the layout's last ID (only with kLayout).
  int64_t worker_range_first = 0;
  int64_t worker_range_last = -1;
  WorkerRangeSource worker_range_source = WorkerRangeSource::kLayout;
  // The cluster's region map; empty when it has none. When not empty,
  // `region` is in it and the worker range lies inside the region's (static
  // mode: `worker_id` does).
  RegionMap regions;
  std::vector<std::string> etcd_endpoints = {limits::kDefaultEtcdEndpoints};
  // Coordinator mode: the cluster's name (worker.cluster), either
  // coordinator's.
  std::string cluster = limits::kDefaultCluster;
  std::string etcd_prefix = cluster_schema::kDefaultPrefix;
  int64_t lease_ttl_seconds = limits::kDefaultLeaseTtlSeconds;
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  std::string etcd_username;
  std::string etcd_password;
  // ZooKeeper mode: "host:port,host:port[/chroot]" as the C client takes it.
  std::string zookeeper_hosts = limits::kDefaultZooKeeperHosts;
  // The root znode clusters live under (below the chroot, if any).
  std::string zookeeper_root = cluster_schema::kDefaultPrefix;
  // The session timeout asked of the ensemble: etcd's lease TTL's part.
  int64_t session_timeout_seconds = limits::kDefaultSessionTimeoutSeconds;
  // "user:password" for ZooKeeper's digest auth; empty: none. A secret.
  std::string zookeeper_auth;
  std::vector<std::string> advertise;  // Empty: the listen address.

  std::string state_dir = limits::kDefaultStateDir;
  int64_t hwm_reserve_millis = limits::kDefaultHwmReserveMillis;
  int64_t max_start_wait_millis = limits::kDefaultMaxStartWaitMillis;
  int64_t switch_worker_behind_millis =
      limits::kDefaultSwitchWorkerBehindMillis;
  // Coordinator mode: how far ahead of the clock the stored HWM is kept, so
  // how long a coordinator outage may last before nodes stop issuing (and
  // the longest a successor of a crashed node's worker ID may wait).
  int64_t outage_budget_seconds = limits::kDefaultOutageBudgetSeconds;
  // Coordinator mode: how often the stored HWM is raised; at most half the
  // outage budget.
  int64_t hwm_write_interval_millis = limits::kDefaultHwmWriteIntervalMillis;
  // The largest clock difference assumed between any two nodes; at most the
  // outage budget.
  int64_t max_clock_skew_millis = limits::kDefaultMaxClockSkewMillis;
  // How long a starting node retries reaching its coordinator (and finding
  // a free worker ID) before it exits; 0: forever.
  int64_t start_timeout_seconds = limits::kDefaultStartTimeoutSeconds;
  std::string node_name;
  std::string region;
  int64_t max_batch = limits::kDefaultMaxBatch;
  int64_t max_header_bytes = limits::kDefaultMaxHeaderBytes;
  int64_t max_connections = limits::kDefaultMaxConnections;
  int64_t idle_timeout_millis = limits::kDefaultIdleTimeoutMillis;
  int64_t header_timeout_millis = limits::kDefaultHeaderTimeoutMillis;
  int64_t drain_timeout_millis = limits::kDefaultDrainTimeoutMillis;
  std::string log_level = limits::kDefaultLogLevel;
  std::string log_format = limits::kDefaultLogFormat;
  bool access_log = limits::kDefaultAccessLog;

  friend bool operator==(const Config&, const Config&) = default;
};

// How many worker IDs the node holds: `workers`, or for auto (0) one per
// CPU in the process's affinity mask.
int EffectiveWorkers(const Config& config);

// Whether the worker ID is held through a coordinator (etcd or zookeeper
// mode) rather than configured (static mode).
bool UsesCoordinator(const Config& config);

// What a node publishes in its worker claims (coordinator mode) for clients
// to find it (docs/operations.md, docs/client.md): node.advertise, or the
// HTTP listen address when that is empty; then, when the node serves gRPC
// and node.advertise names no "grpc://" address itself,
// "grpc://HOST:PORT" of grpc_listen, its host replaced by the first
// advertised address's host when it is a wildcard (0.0.0.0, [::]). HTTP
// stays first: older clients, and Prometheus's file_sd, take the first
// address they can use.
std::vector<std::string> AdvertisedAddresses(const Config& config);

// The coordinator's renewal period that the HWM's timing is checked
// against: etcd.lease_ttl_s in etcd mode, zookeeper.session_timeout_s in
// zookeeper mode (each renewed every third of it); 0 in static mode.
int64_t CoordinatorTtlSeconds(const Config& config);

// Where an effective value came from.
struct ConfigValue {
  std::string key;     // File key, e.g. "worker.id".
  std::string value;   // As written (text form).
  std::string source;  // "default", "file F line N", "env X", "flag --x".
};

enum class ConfigAction {
  kRun,
  kCheck,  // --check-config: validate, print CheckReport, exit 0.
  kPrint,  // --print-config: print the effective values, exit 0.
  kExit,   // --help or --version: print `output`, exit 0.
};

struct LoadedConfig {
  Config config;
  ConfigAction action = ConfigAction::kRun;
  std::vector<ConfigValue> values;  // One per setting, in table order.
  std::string output;               // For kExit.
};

// Reads one environment variable; nullopt if unset.
using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;
// The process environment.
EnvLookup ProcessEnv();

// Parses `args` (args[0] is the program name), the environment and the
// file named by --config or SNOWFLAKE_CONFIG. Errors: kInvalidArgument
// naming the key, the value and its source (for the file, the line), for an
// unknown file key, a bad flag, a bad value or an inconsistent combination
// (e.g. a worker ID that does not fit the layout) or a --config path that
// is not a readable regular file (a directory, a device); kNotFound for a
// missing file.
absl::StatusOr<LoadedConfig> LoadConfig(const std::vector<std::string>& args,
                                        const EnvLookup& env);

// What no setting alone shows but the present does: the layout must be
// able to issue IDs at `now_unix_millis`. Errors: kFailedPrecondition,
// naming the settings and their sources, when the epoch is in the future or
// the layout's time range is used up. --check-config fails on it; a node
// started anyway logs it and is never ready.
absl::Status CheckLayoutAt(const LoadedConfig& loaded, int64_t now_unix_millis);

// --check-config's report: what was checked (every setting, their
// combinations, the layout at `now_unix_millis`, with its end) and what was
// not, because only a start does it (the state directory, the port, and in
// coordinator mode the coordinator itself). Several lines, the first
// "configuration ok".
std::string CheckReport(const LoadedConfig& loaded, int64_t now_unix_millis);

// --print-config's output: one `key = value  # source` line per setting,
// itself a valid TOML file. Secrets that are set print redacted, with their
// source: etcd.password as "<redacted>", zookeeper.auth as
// "USER:<redacted>" (the user is no secret, and the line still loads).
std::string FormatConfig(const LoadedConfig& loaded);

// `value` as a TOML basic string, quotes included: TOML's own escapes for
// quotes, backslashes and control characters, valid UTF-8 as it is, each
// byte of invalid UTF-8 as U+FFFD (TOML holds only UTF-8).
std::string TomlQuote(std::string_view value);

// An environment variable named SNOWFLAKE_* that is no setting: most likely
// a misspelling, which would otherwise be ignored without a word.
struct UnknownEnv {
  std::string name;
  std::string suggestion;  // The closest setting's variable; empty if none.
};

// The SNOWFLAKE_* names in `names` (every variable of an environment) that
// are neither a setting's variable, SNOWFLAKE_CONFIG, nor one of the few
// that the tests read (SNOWFLAKE_KEEP_TEST_DIRS, SNOWFLAKE_CLI_BIN). Only
// for warnings: an unknown name never fails a start.
std::vector<UnknownEnv> FindUnknownEnv(const std::vector<std::string>& names);

// The names of the process's environment variables.
std::vector<std::string> ProcessEnvNames();

// The settings table as Markdown (key, flag, env, default, meaning), from
// which docs/configuration.md's table is made.
std::string ConfigMarkdownTable();

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_CONFIG_H_
