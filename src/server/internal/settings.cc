#include "src/server/internal/settings.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/time/time.h"
#include "src/base/strings.h"
#include "src/lease/cluster_schema.h"
#include "src/lease/region_map.h"
#include "src/server/limits.h"

namespace snowflake::internal {

using base::Append;
using base::Cat;
namespace {

absl::Status IntIn(std::string_view text, int64_t lo, int64_t hi,
                   int64_t& out) {
  if (!base::ParseInt(text, out)) {
    return absl::InvalidArgumentError("not a whole number");
  }
  if (out < lo || out > hi) {
    return absl::InvalidArgumentError(Cat("must be between ", lo, " and ", hi));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status SetInt(std::string_view text, int64_t lo, int64_t hi, T& out) {
  int64_t value = 0;
  if (auto s = IntIn(text, lo, hi, value); !s.ok()) return s;
  out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status OneOf(std::string_view text,
                   std::initializer_list<std::string_view> choices,
                   std::string& out) {
  for (std::string_view choice : choices) {
    if (text == choice) {
      out = std::string(text);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      Cat("must be one of: ", base::Join(choices, ", ")));
}

// What the etcd client accepts: "http://host:port", "https://host:port" or
// "host:port", without a path.
absl::Status CheckEndpoint(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "unknown scheme; use http:// or https://");
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("expected [http[s]://]HOST:PORT");
  }
  if (rest.substr(0, colon).find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError("a path is not allowed");
  }
  int64_t port = 0;
  if (!base::ParseInt(rest.substr(colon + 1), port) || port < 1 ||
      port > 65535 || rest[colon + 1] == '+') {
    return absl::InvalidArgumentError("the port must be 1 to 65535");
  }
  return absl::OkStatus();
}

// etcd.prefix, zookeeper.root: an absolute path without a trailing slash.
absl::Status CheckRootPath(std::string_view text) {
  if (text.empty() || text.front() != '/' || text.back() == '/') {
    return absl::InvalidArgumentError("must start with / and not end with /");
  }
  return absl::OkStatus();
}

// What ZooKeeper's C client accepts: "host:port,host:port[/chroot]".
absl::Status CheckZooKeeperHosts(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view hosts = text.substr(0, slash);
  if (base::Trim(hosts).empty()) {
    return absl::InvalidArgumentError("needs at least one HOST:PORT");
  }
  int entry = 0;
  for (std::string_view part : base::Split(hosts, ',')) {
    ++entry;
    if (part.empty()) {
      return absl::InvalidArgumentError(Cat("entry ", entry, " is empty"));
    }
    const size_t colon = part.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(
          Cat("entry \"", part, "\": expected HOST:PORT"));
    }
    int64_t port = 0;
    if (!base::ParseInt(part.substr(colon + 1), port) || port < 1 ||
        port > 65535 || part[colon + 1] == '+') {
      return absl::InvalidArgumentError(
          Cat("entry \"", part, "\": the port must be 1 to 65535"));
    }
  }
  if (slash != std::string_view::npos) {
    const std::string_view chroot = text.substr(slash);
    if (chroot.size() < 2 || chroot.back() == '/' ||
        chroot.find("//") != std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat("the chroot \"", chroot,
              "\" must be /PATH, neither / alone nor ending with / (nor "
              "holding //)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseListen(std::string_view text, Config& config) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8080
  }
  if (auto s = SetInt(text.substr(colon + 1), 0, 65535, config.listen_port);
      !s.ok()) {
    return absl::InvalidArgumentError(Cat("port ", s.message()));
  }
  config.listen_host = std::string(host);
  return absl::OkStatus();
}

// grpc_listen: empty (off), or HOST:PORT as ParseListen takes it, kept as
// given (gRPC parses it again, [::1]:PORT included).
absl::Status ParseGrpcListen(std::string_view text, Config& config) {
  if (!text.empty()) {
    Config parsed;
    if (auto s = ParseListen(text, parsed); !s.ok()) return s;
    if (parsed.listen_host.empty()) {
      return absl::InvalidArgumentError("the host must not be empty");
    }
  }
  config.grpc_listen = std::string(text);
  return absl::OkStatus();
}

// admin_listen: empty (off), or HOST:PORT as ParseListen takes it.
absl::Status ParseAdminListen(std::string_view text, Config& config) {
  Config parsed;
  parsed.listen_host.clear();
  parsed.listen_port = 0;
  if (!text.empty()) {
    if (auto s = ParseListen(text, parsed); !s.ok()) return s;
    if (parsed.listen_host.empty()) {
      return absl::InvalidArgumentError("the host must not be empty");
    }
  }
  config.admin_listen = std::string(text);
  config.admin_listen_host = parsed.listen_host;
  config.admin_listen_port = parsed.listen_port;
  return absl::OkStatus();
}

}  // namespace

const std::vector<Setting>& Settings() {
  using C = Config;
  static const std::vector<Setting> kSettings = {
      {"listen", "--listen", "SNOWFLAKE_LISTEN", Kind::kString, "HOST:PORT",
       Cat(limits::kDefaultListenHost, ":", limits::kDefaultListenPort),
       "Address and port to serve HTTP on (HOST:PORT).",
       [](std::string_view v, C& c, RawLayout&) { return ParseListen(v, c); }},
      {"grpc_listen", "--grpc-listen", "SNOWFLAKE_GRPC_LISTEN", Kind::kString,
       "HOST:PORT", limits::kDefaultGrpcListen,
       "Address and port to serve gRPC on (snowflake.v1.IdService, health, "
       "reflection); empty means no gRPC.",
       [](std::string_view v, C& c, RawLayout&) {
         return ParseGrpcListen(v, c);
       }},
      {"admin_listen", "--admin-listen", "SNOWFLAKE_ADMIN_LISTEN",
       Kind::kString, "HOST:PORT", limits::kDefaultAdminListen,
       "Address and port of a second HTTP listener for operators: the status "
       "page, /v1/status, /v1/info, /v1/decode, /metrics, /healthz and "
       "/readyz; the page and /v1/status then leave the main port. Empty "
       "means all on the main port.",
       [](std::string_view v, C& c, RawLayout&) {
         return ParseAdminListen(v, c);
       }},
      {"threads", "--threads", "SNOWFLAKE_THREADS", Kind::kInt, "N",
       Cat(limits::kDefaultThreads),
       "I/O threads; 0 means one per CPU the node may run on (its affinity).",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, limits::kMaxThreads, c.threads);
       }},
      {"node.name", "--node-name", "SNOWFLAKE_NODE_NAME", Kind::kString, "NAME",
       "", "Name shown in /v1/info; empty means the host name.",
       [](std::string_view v, C& c, RawLayout&) {
         c.node_name = std::string(v);
         return absl::OkStatus();
       }},
      {"node.region", "--region", "SNOWFLAKE_REGION", Kind::kString, "NAME", "",
       "Region shown in /v1/info; with a region map (regions), the region "
       "whose worker IDs this node uses.",
       [](std::string_view v, C& c, RawLayout&) {
         c.region = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.widths", "--layout", "SNOWFLAKE_LAYOUT", Kind::kString,
       "T/W/S|PRESET", limits::kDefaultLayout,
       "Bit widths TIME/WORKER/SEQUENCE (e.g. 41/10/12) or a preset name "
       "(default, twitter, discord, js53). Fixed for a cluster's life.",
       [](std::string_view v, C&, RawLayout& r) {
         r.layout = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.epoch", "--epoch", "SNOWFLAKE_EPOCH", Kind::kString,
       "MS|RFC3339|DATE", "",
       "Custom epoch: Unix milliseconds, RFC 3339 (2025-01-01T00:00:00Z) "
       "or a date (2025-01-01, its midnight UTC); it must lie in the past. "
       "Empty means the layout's own (2025-01-01T00:00:00Z for the "
       "default).",
       [](std::string_view v, C&, RawLayout& r) {
         r.epoch = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.unit_ms", "--unit-ms", "SNOWFLAKE_UNIT_MS", Kind::kInt, "MS",
       "0", "Length of one tick in ms (1 to 1000); 0 means the layout's own.",
       [](std::string_view v, C&, RawLayout& r) {
         int64_t unit = 0;
         if (auto s = IntIn(v, 0, 1000, unit); !s.ok()) return s;
         r.unit = unit == 0 ? "" : std::string(v);
         return absl::OkStatus();
       }},
      {"clock.source", "--clock", "SNOWFLAKE_CLOCK", Kind::kString,
       "wall|monotonic", limits::kDefaultClockSource,
       "wall (follows the system clock) or monotonic (wall time at start, "
       "then advanced by the monotonic clock).",
       [](std::string_view v, C& c, RawLayout&) {
         return OneOf(v, {"wall", "monotonic"}, c.clock_source);
       }},
      {"clock.tolerance_ms", "--tolerance-ms", "SNOWFLAKE_TOLERANCE_MS",
       Kind::kInt, "MS", Cat(limits::kDefaultToleranceMillis),
       "Clock behind the last ID by at most this: wait; further: 503.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, 60'000, c.tolerance_millis);
       }},
      {"clock.max_borrow_ms", "--max-borrow-ms", "SNOWFLAKE_MAX_BORROW_MS",
       Kind::kInt, "MS", Cat(limits::kDefaultMaxBorrowMillis),
       "In a burst, how far the tick may run ahead of the clock instead of "
       "waiting.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, 60'000, c.max_borrow_millis);
       }},
      {"clock.max_start_wait_ms", "--max-start-wait-ms",
       "SNOWFLAKE_MAX_START_WAIT_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultMaxStartWaitMillis),
       "At start, the longest wait for the clock to pass the stored "
       "high-water mark; further behind, the node refuses to start. "
       "Coordinator mode (etcd, zookeeper): at least worker.outage_budget_s, "
       "which a successor of a crashed node may have to wait.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, limits::kMaxMaxStartWaitMillis,
                       c.max_start_wait_millis);
       }},
      {"clock.switch_worker_behind_ms", "--switch-worker-behind-ms",
       "SNOWFLAKE_SWITCH_WORKER_BEHIND_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultSwitchWorkerBehindMillis),
       "Coordinator mode: once the clock is further behind the last issued "
       "ID than this, give the worker ID up (its stored high-water mark "
       "fences it) and claim another; 0: never, wait for the clock.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, limits::kMaxMaxStartWaitMillis,
                       c.switch_worker_behind_millis);
       }},
      {"clock.max_skew_ms", "--max-clock-skew-ms",
       "SNOWFLAKE_MAX_CLOCK_SKEW_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultMaxClockSkewMillis),
       "The largest clock difference assumed between any two nodes (0 to "
       "worker.outage_budget_s); a node taking over a worker ID waits it "
       "out.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, limits::kMaxOutageBudgetSeconds * 1000,
                       c.max_clock_skew_millis);
       }},
      {"generator.sequence_start_max", "--sequence-start-max",
       "SNOWFLAKE_SEQUENCE_START_MAX", Kind::kInt, "N",
       Cat(limits::kDefaultSequenceStartMax),
       "If > 0, each tick's sequence starts at a random value in [0, N] so "
       "IDs taken at low rates do not all end in the same bits.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, int64_t{1} << 30, c.sequence_start_max);
       }},
      {"worker.mode", "--coordinator", "SNOWFLAKE_COORDINATOR", Kind::kString,
       "static|etcd|zookeeper", limits::kDefaultWorkerMode,
       "How the worker ID is held: static (worker.id, HWM in state_dir), "
       "etcd (leased from etcd) or zookeeper (an ephemeral znode of a "
       "ZooKeeper session); etcd and zookeeper are coordinator mode.",
       [](std::string_view v, C& c, RawLayout&) {
         return OneOf(v, {"static", "etcd", "zookeeper"}, c.worker_mode);
       }},
      {"worker.cluster", "--cluster", "SNOWFLAKE_CLUSTER", Kind::kString,
       "NAME", limits::kDefaultCluster,
       "Coordinator mode (etcd, zookeeper): the cluster's name; its nodes "
       "share a layout and the worker-ID space. (Formerly etcd.cluster.)",
       [](std::string_view v, C& c, RawLayout&) {
         if (v.empty() || v.find('/') != std::string_view::npos) {
           return absl::InvalidArgumentError("must be non-empty without /");
         }
         c.cluster = std::string(v);
         return absl::OkStatus();
       }},
      {"worker.range", "--worker-range", "SNOWFLAKE_WORKER_RANGE",
       Kind::kString, "A-B", "",
       "Coordinator mode (etcd, zookeeper): the worker IDs this node may "
       "claim, A-B inclusive; empty means its region's (with a region map) "
       "or all of the layout's.",
       [](std::string_view v, C& c, RawLayout&) {
         if (v.empty()) {
           c.worker_range_first = 0;
           c.worker_range_last = -1;
           return absl::OkStatus();
         }
         absl::StatusOr<WorkerRange> range = ParseWorkerRange(v);
         if (!range.ok()) return range.status();
         c.worker_range_first = range->first;
         c.worker_range_last = range->last;
         c.worker_range_source = WorkerRangeSource::kExplicit;
         return absl::OkStatus();
       }},
      {kRegionsKey, "--regions", "SNOWFLAKE_REGIONS", Kind::kRegions,
       "NAME=A-B,...", "",
       "Region map: each region's worker IDs, e.g. us=0-341,eu=342-683 (in "
       "the file, a [regions] table of us = \"0-341\" entries). When set, "
       "node.region must be one of them and gives the node its worker IDs "
       "(worker.range, if set, must lie inside). The same in every node of "
       "a cluster.",
       [](std::string_view v, C& c, RawLayout&) {
         auto regions = RegionMap::Parse(v);
         if (!regions.ok()) return regions.status();
         c.regions = *std::move(regions);
         return absl::OkStatus();
       }},
      {"etcd.endpoints", "--etcd-endpoints", "SNOWFLAKE_ETCD_ENDPOINTS",
       Kind::kString, "URL[,URL...]", limits::kDefaultEtcdEndpoints,
       "etcd mode: client URLs, comma-separated; tried in order on failure.",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_endpoints.clear();
         if (base::Trim(v).empty()) {
           return absl::InvalidArgumentError("needs at least one URL");
         }
         int entry = 0;
         for (std::string_view part : base::Split(v, ',')) {
           ++entry;
           part = base::Trim(part);
           if (part.empty()) {
             return absl::InvalidArgumentError(
                 Cat("entry ", entry, " is empty"));
           }
           if (auto s = CheckEndpoint(part); !s.ok()) {
             return absl::InvalidArgumentError(
                 Cat("entry \"", part, "\": ", s.message()));
           }
           c.etcd_endpoints.emplace_back(part);
         }
         return absl::OkStatus();
       }},
      {"etcd.prefix", "--etcd-prefix", "SNOWFLAKE_ETCD_PREFIX", Kind::kString,
       "/PATH", cluster_schema::kDefaultPrefix,
       "etcd mode: the key prefix all clusters live under.",
       [](std::string_view v, C& c, RawLayout&) {
         if (auto s = CheckRootPath(v); !s.ok()) return s;
         c.etcd_prefix = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.lease_ttl_s", "--lease-ttl", "SNOWFLAKE_LEASE_TTL", Kind::kInt,
       "S", Cat(limits::kDefaultLeaseTtlSeconds),
       "etcd mode: lease TTL in seconds; renewed every TTL/3, and the node "
       "stops issuing shortly before it would expire.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, limits::kMinCoordinatorTtlSeconds,
                       limits::kMaxCoordinatorTtlSeconds, c.lease_ttl_seconds);
       }},
      {"etcd.ca_file", "--etcd-ca", "SNOWFLAKE_ETCD_CA", Kind::kString, "FILE",
       "",
       "etcd mode: CA bundle (PEM) for https endpoints; empty: system roots.",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_ca_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.cert_file", "--etcd-cert", "SNOWFLAKE_ETCD_CERT", Kind::kString,
       "FILE", "",
       "etcd mode: client certificate (PEM) for etcd's client-cert auth.",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_cert_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.key_file", "--etcd-key", "SNOWFLAKE_ETCD_KEY", Kind::kString,
       "FILE", "", "etcd mode: the client certificate's private key (PEM).",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_key_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.username", "--etcd-user", "SNOWFLAKE_ETCD_USER", Kind::kString,
       "USER", "", "etcd mode: user name when etcd has authentication enabled.",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_username = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.password", "--etcd-password", "SNOWFLAKE_ETCD_PASSWORD",
       Kind::kString, "PASSWORD", "",
       "etcd mode: that user's password (prefer the environment variable to "
       "the flag: flags show in ps).",
       [](std::string_view v, C& c, RawLayout&) {
         c.etcd_password = std::string(v);
         return absl::OkStatus();
       }},
      {"zookeeper.hosts", "--zookeeper-hosts", "SNOWFLAKE_ZOOKEEPER_HOSTS",
       Kind::kString, "HOST:PORT[,...][/CHROOT]",
       limits::kDefaultZooKeeperHosts,
       "zookeeper mode: the ensemble's HOST:PORT addresses, comma-separated, "
       "optionally followed by a chroot path (/PATH, which must exist) that "
       "every path is taken under.",
       [](std::string_view v, C& c, RawLayout&) {
         if (auto s = CheckZooKeeperHosts(v); !s.ok()) return s;
         c.zookeeper_hosts = std::string(v);
         return absl::OkStatus();
       }},
      {"zookeeper.root", "--zookeeper-root", "SNOWFLAKE_ZOOKEEPER_ROOT",
       Kind::kString, "/PATH", cluster_schema::kDefaultPrefix,
       "zookeeper mode: the znode all clusters live under (below the "
       "chroot, if any); created if missing.",
       [](std::string_view v, C& c, RawLayout&) {
         if (auto s = CheckRootPath(v); !s.ok()) return s;
         c.zookeeper_root = std::string(v);
         return absl::OkStatus();
       }},
      {"zookeeper.session_timeout_s", "--session-timeout",
       "SNOWFLAKE_SESSION_TIMEOUT", Kind::kInt, "S",
       Cat(limits::kDefaultSessionTimeoutSeconds),
       "zookeeper mode: the session timeout asked of the ensemble (which "
       "may clamp it to its tickTime bounds); the session is renewed every "
       "third of it, and the node stops issuing shortly before it would "
       "expire.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, limits::kMinCoordinatorTtlSeconds,
                       limits::kMaxCoordinatorTtlSeconds,
                       c.session_timeout_seconds);
       }},
      {"zookeeper.auth", "--zookeeper-auth", "SNOWFLAKE_ZOOKEEPER_AUTH",
       Kind::kString, "USER:PASSWORD", "",
       "zookeeper mode: credentials for ZooKeeper's digest scheme; the "
       "nodes' znodes are then readable and writable by this user only. "
       "Empty: none (open ACL). A secret: prefer the environment variable.",
       [](std::string_view v, C& c, RawLayout&) {
         const size_t colon = v.find(':');
         if (!v.empty() && (colon == std::string_view::npos || colon == 0)) {
           return absl::InvalidArgumentError(
               "must be USER:PASSWORD with a non-empty user");
         }
         c.zookeeper_auth = std::string(v);
         return absl::OkStatus();
       }},
      {"node.advertise", "--advertise", "SNOWFLAKE_ADVERTISE", Kind::kString,
       "HOST:PORT[,...]", "",
       "Coordinator mode (etcd, zookeeper): HOST:PORT addresses "
       "(comma-separated) clients reach this node at, published for "
       "discovery; empty: the listen address.",
       [](std::string_view v, C& c, RawLayout&) {
         c.advertise.clear();
         for (std::string_view part : base::Split(v, ',')) {
           if (!part.empty()) c.advertise.emplace_back(part);
         }
         return absl::OkStatus();
       }},
      {"node.start_timeout_s", "--start-timeout", "SNOWFLAKE_START_TIMEOUT",
       Kind::kInt, "S", Cat(limits::kDefaultStartTimeoutSeconds),
       "Coordinator mode (etcd, zookeeper): how long a starting node keeps "
       "retrying to reach its coordinator and to find a free worker ID "
       "before it exits; 0 means forever.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, limits::kMaxStartTimeoutSeconds,
                       c.start_timeout_seconds);
       }},
      {"worker.id", "--worker-id", "SNOWFLAKE_WORKER_ID", Kind::kInt, "ID",
       Cat(limits::kDefaultWorkerId),
       "The worker ID in static mode; must fit the layout's worker bits and "
       "be unique in the cluster.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, int64_t{1} << 62, c.worker_id);
       }},
      {"worker.count", "--workers", "SNOWFLAKE_WORKERS", Kind::kString,
       "N|auto", Cat(limits::kDefaultWorkers),
       "Worker IDs this node holds, one generator each, so that each I/O "
       "thread issues on its own (static mode: worker.id to worker.id+N-1); "
       "auto means one per CPU the node may run on (its affinity).",
       [](std::string_view v, C& c, RawLayout&) {
         if (v == "auto") {
           c.workers = 0;
           return absl::OkStatus();
         }
         return SetInt(v, 1, limits::kMaxWorkers, c.workers);
       }},
      {"worker.state_dir", "--state-dir", "SNOWFLAKE_STATE_DIR", Kind::kString,
       "DIR", limits::kDefaultStateDir,
       "Directory of the high-water-mark file (static mode); created if "
       "missing. Relative paths are relative to the working directory.",
       [](std::string_view v, C& c, RawLayout&) {
         if (v.empty()) return absl::InvalidArgumentError("must not be empty");
         c.state_dir = std::string(v);
         return absl::OkStatus();
       }},
      {"worker.hwm_reserve_ms", "--hwm-reserve-ms", "SNOWFLAKE_HWM_RESERVE_MS",
       Kind::kInt, "MS", Cat(limits::kDefaultHwmReserveMillis),
       "How far ahead of the clock the high-water mark is stored.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 100, 3'600'000, c.hwm_reserve_millis);
       }},
      {"worker.outage_budget_s", "--outage-budget", "SNOWFLAKE_OUTAGE_BUDGET",
       Kind::kInt, "S", Cat(limits::kDefaultOutageBudgetSeconds),
       "Coordinator mode (etcd, zookeeper): how far ahead of the clock "
       "(seconds) the high-water mark is stored in the coordinator: how "
       "long a coordinator outage may last before nodes stop issuing, and "
       "the longest a successor of a crashed node's worker ID may have to "
       "wait.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 1, limits::kMaxOutageBudgetSeconds,
                       c.outage_budget_seconds);
       }},
      {"worker.hwm_write_interval_ms", "--hwm-write-interval-ms",
       "SNOWFLAKE_HWM_WRITE_INTERVAL_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultHwmWriteIntervalMillis),
       "Coordinator mode (etcd, zookeeper): how often the stored high-water "
       "mark is raised; at most half of worker.outage_budget_s.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, limits::kMinHwmWriteIntervalMillis,
                       limits::kMaxOutageBudgetSeconds * 1000,
                       c.hwm_write_interval_millis);
       }},
      {"limits.max_batch", "--max-batch", "SNOWFLAKE_MAX_BATCH", Kind::kInt,
       "N", Cat(limits::kDefaultMaxBatch),
       "Largest count of GET /v1/ids; larger gets 413.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 1, limits::kMaxMaxBatch, c.max_batch);
       }},
      {"limits.max_header_bytes", "--max-header-bytes",
       "SNOWFLAKE_MAX_HEADER_BYTES", Kind::kInt, "BYTES",
       Cat(limits::kDefaultMaxHeaderBytes),
       "Largest request line plus headers; larger gets 431.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 512, limits::kMaxMaxHeaderBytes, c.max_header_bytes);
       }},
      {"limits.max_connections", "--max-connections",
       "SNOWFLAKE_MAX_CONNECTIONS", Kind::kInt, "N",
       Cat(limits::kDefaultMaxConnections),
       "Connections beyond this are closed at once.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 1, 1'000'000, c.max_connections);
       }},
      {"limits.idle_timeout_ms", "--idle-timeout-ms",
       "SNOWFLAKE_IDLE_TIMEOUT_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultIdleTimeoutMillis),
       "An idle keep-alive connection is closed after this long.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 10, 86'400'000, c.idle_timeout_millis);
       }},
      {"limits.header_timeout_ms", "--header-timeout-ms",
       "SNOWFLAKE_HEADER_TIMEOUT_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultHeaderTimeoutMillis),
       "Once a request has begun, its headers must arrive within this long "
       "(and a response must be taken within it).",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 10, 3'600'000, c.header_timeout_millis);
       }},
      {"limits.drain_timeout_ms", "--drain-timeout-ms",
       "SNOWFLAKE_DRAIN_TIMEOUT_MS", Kind::kInt, "MS",
       Cat(limits::kDefaultDrainTimeoutMillis),
       "On SIGTERM, how long requests in flight get to finish.",
       [](std::string_view v, C& c, RawLayout&) {
         return SetInt(v, 0, 600'000, c.drain_timeout_millis);
       }},
      {"log.level", "--log-level", "SNOWFLAKE_LOG_LEVEL", Kind::kString,
       "LEVEL", limits::kDefaultLogLevel,
       "trace, debug, info, warn, error, critical or off.",
       [](std::string_view v, C& c, RawLayout&) {
         return OneOf(
             v, {"trace", "debug", "info", "warn", "error", "critical", "off"},
             c.log_level);
       }},
      {"log.format", "--log-format", "SNOWFLAKE_LOG_FORMAT", Kind::kString,
       "text|json", limits::kDefaultLogFormat,
       "text (timestamp level key=value ...) or json (one object a line).",
       [](std::string_view v, C& c, RawLayout&) {
         return OneOf(v, {"text", "json"}, c.log_format);
       }},
      {"log.access", "--access-log", "SNOWFLAKE_ACCESS_LOG", Kind::kBool,
       "BOOL", Cat(limits::kDefaultAccessLog), "Log one line per HTTP request.",
       [](std::string_view v, C& c, RawLayout&) {
         auto b = ParseBool(v);
         if (!b.ok()) return b.status();
         c.access_log = *b;
         return absl::OkStatus();
       }},
  };
  return kSettings;
}

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : Settings()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string_view SectionOf(std::string_view key) {
  if (key == kRegionsKey) return kRegionsKey;
  const size_t dot = key.find('.');
  return dot == std::string_view::npos ? std::string_view()
                                       : key.substr(0, dot);
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  const std::string lower = base::ToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
    return true;
  }
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
    return false;
  }
  return absl::InvalidArgumentError("must be true or false");
}

absl::StatusOr<Layout> ParseLayoutText(std::string_view text) {
  absl::StatusOr<Layout> layout = Layout::Preset(text);
  if (layout.ok()) return layout;
  layout = Layout::Parse(text);
  if (layout.ok()) return layout;
  std::string presets;
  for (const std::string& name : Layout::PresetNames()) {
    Append(presets, presets.empty() ? "" : ", ", name);
  }
  return absl::InvalidArgumentError(
      Cat(layout.status().message(), "; presets: ", presets));
}

absl::StatusOr<int64_t> ParseEpoch(std::string_view text) {
  int64_t millis = 0;
  if (base::ParseInt(text, millis)) return millis;
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, base::AbslView(text), &time,
                      &error)) {
    return absl::ToUnixMillis(time);
  }
  // YYYY-MM-DD exactly: its midnight UTC.
  if (text.size() == 10 &&
      absl::ParseTime("%Y-%m-%d", base::AbslView(text), absl::UTCTimeZone(),
                      &time, &error)) {
    return absl::ToUnixMillis(time);
  }
  return absl::InvalidArgumentError(
      "must be Unix milliseconds, RFC 3339 or a date, e.g. "
      "2025-01-01T00:00:00Z or 2025-01-01");
}

}  // namespace snowflake::internal
