#include "src/server/metrics.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "snowflake/layout.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

using base::Append;
using base::Cat;

constexpr std::array<std::string_view, kRouteCount> kRouteNames = {
    "/v1/id",  "/v1/ids",  "/v1/decode", "/v1/info", "/healthz",
    "/readyz", "/metrics", "/v1/status", "/",        "other"};

constexpr std::array<std::string_view, kGrpcMethodCount> kGrpcMethodNames = {
    "/snowflake.v1.IdService/NextIds", "/snowflake.v1.IdService/StreamIds",
    "/snowflake.v1.IdService/Decode", "/snowflake.v1.IdService/Info"};

std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", value);
  return buf;
}

// Appends HELP and TYPE lines.
void Header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  Append(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string& out, std::string_view name, double value) {
  Append(out, name, " ", Number(value), "\n");
}

void Single(std::string& out, std::string_view name, std::string_view type,
            std::string_view help, double value) {
  Header(out, name, type, help);
  Sample(out, name, value);
}

}  // namespace

std::string_view RouteName(Route route) {
  return kRouteNames[static_cast<int>(route)];
}

std::string_view GrpcMethodName(GrpcMethod method) {
  return kGrpcMethodNames[static_cast<int>(method)];
}

Metrics::Metrics(BuildInfo build_info) : build_info_(std::move(build_info)) {}

int Metrics::StatusIndex(int http_status) {
  for (int i = 0; i < static_cast<int>(kStatuses.size()); ++i) {
    if (kStatuses[i] == http_status) return i;
  }
  return kStatusCount - 1;
}

Metrics::Shard& Metrics::LocalShard() {
  static std::atomic<unsigned> next_shard{0};
  thread_local const unsigned shard = next_shard.fetch_add(1) % kShards;
  return shards_[shard];
}

int Metrics::GrpcCodeIndex(absl::StatusCode code) {
  const int value = static_cast<int>(code);
  // A code gRPC does not define counts as UNKNOWN, as gRPC itself maps it.
  return kStatusCount + (value >= 0 && value < kGrpcCodeCount ? value : 2);
}

void Metrics::RecordRequest(Route route, int http_status,
                            int64_t duration_nanos) {
  Record(static_cast<int>(route), StatusIndex(http_status), duration_nanos);
}

void Metrics::RecordGrpcCall(GrpcMethod method, absl::StatusCode code,
                             int64_t duration_nanos) {
  Record(kRouteCount + static_cast<int>(method), GrpcCodeIndex(code),
         duration_nanos);
}

void Metrics::Record(int series, int code_index, int64_t duration_nanos) {
  Shard& shard = LocalShard();
  shard.requests[series][code_index].fetch_add(1, std::memory_order_relaxed);
  int bucket = 0;
  while (bucket < static_cast<int>(kBucketNanos.size()) &&
         duration_nanos > kBucketNanos[bucket]) {
    ++bucket;
  }
  shard.buckets[series][bucket].fetch_add(1, std::memory_order_relaxed);
  shard.duration_nanos[series].fetch_add(
      static_cast<uint64_t>(duration_nanos < 0 ? 0 : duration_nanos),
      std::memory_order_relaxed);
}

void Metrics::AddIdsIssued(uint64_t count) {
  LocalShard().ids.fetch_add(count, std::memory_order_relaxed);
}

uint64_t Metrics::ids_issued() const {
  uint64_t total = 0;
  for (const Shard& shard : shards_) total += shard.ids.load();
  return total;
}

uint64_t Metrics::requests(Route route, int http_status) const {
  uint64_t total = 0;
  for (const Shard& shard : shards_) {
    total += shard.requests[static_cast<int>(route)][StatusIndex(http_status)]
                 .load();
  }
  return total;
}

uint64_t Metrics::grpc_calls(GrpcMethod method, absl::StatusCode code) const {
  uint64_t total = 0;
  for (const Shard& shard : shards_) {
    total += shard
                 .requests[kRouteCount + static_cast<int>(method)]
                          [GrpcCodeIndex(code)]
                 .load();
  }
  return total;
}

internal::HistoryTotals Metrics::SumHistoryTotals() const {
  // The routes that issue IDs: their latency is the one clients feel.
  constexpr int kIdSeries[] = {
      static_cast<int>(Route::kId), static_cast<int>(Route::kIds),
      kRouteCount + static_cast<int>(GrpcMethod::kNextIds)};
  internal::HistoryTotals totals;
  totals.ids = ids_issued();
  totals.buckets.assign(kBucketCount, 0);
  for (const Shard& shard : shards_) {
    for (int series : kIdSeries) {
      for (int b = 0; b < kBucketCount; ++b) {
        totals.buckets[b] += shard.buckets[series][b].load();
      }
    }
  }
  return totals;
}

void Metrics::UpdateHistory(int64_t now_unix_ms) const {
  // Summed under the lock, so that updates see the counters in order.
  MutexLock lock(&history_mu_);
  history_.Update(now_unix_ms, SumHistoryTotals());
}

std::vector<internal::HistorySample> Metrics::RecentHistory(
    int64_t now_unix_ms) const {
  UpdateHistory(now_unix_ms);
  MutexLock lock(&history_mu_);
  return history_.Samples();
}

std::string Metrics::Render(const NodeStatus& node,
                            const internal::ProcessStats& process) const {
  UpdateHistory(node.now_micros / 1000);
  std::string out;
  out.reserve(size_t{16} * 1024);

  // Sum the shards once.
  uint64_t requests[kSeriesCount][kCodeCount] = {};
  uint64_t buckets[kSeriesCount][kBucketCount] = {};
  uint64_t nanos[kSeriesCount] = {};
  for (const Shard& shard : shards_) {
    for (int r = 0; r < kSeriesCount; ++r) {
      for (int s = 0; s < kCodeCount; ++s) {
        requests[r][s] += shard.requests[r][s].load();
      }
      for (int b = 0; b < kBucketCount; ++b) {
        buckets[r][b] += shard.buckets[r][b].load();
      }
      nanos[r] += shard.duration_nanos[r].load();
    }
  }

  Single(out, "snowflake_ids_issued_total", "counter", "IDs handed to clients.",
         static_cast<double>(ids_issued()));

  // Each series' labels, unclosed: {transport="http",route="/v1/id"
  std::array<std::string, kSeriesCount> labels;
  for (int r = 0; r < kSeriesCount; ++r) {
    labels[r] = r < kRouteCount
                    ? Cat("{transport=\"http\",route=\"", kRouteNames[r], "\"")
                    : Cat("{transport=\"grpc\",route=\"",
                          kGrpcMethodNames[r - kRouteCount], "\"");
  }

  Header(out, "snowflake_http_requests_total", "counter",
         "Requests answered (HTTP) and calls finished (gRPC), by transport, "
         "route and status code (HTTP's, or gRPC's name).");
  for (int r = 0; r < kSeriesCount; ++r) {
    for (int s = 0; s < kCodeCount; ++s) {
      if (requests[r][s] == 0) continue;
      std::string code;
      if (s < static_cast<int>(kStatuses.size())) {
        code = Cat(kStatuses[s]);
      } else if (s < kStatusCount) {
        code = "other";
      } else {
        code = absl::StatusCodeToString(
            static_cast<absl::StatusCode>(s - kStatusCount));
      }
      Append(out, "snowflake_http_requests_total", labels[r], ",code=\"", code,
             "\"} ", requests[r][s], "\n");
    }
  }

  Header(out, "snowflake_http_request_duration_seconds", "histogram",
         "Time from a request's last header byte (HTTP) or a call's start "
         "(gRPC) to its response, by transport and route.");
  for (int r = 0; r < kSeriesCount; ++r) {
    uint64_t total = 0;
    for (int b = 0; b < kBucketCount; ++b) total += buckets[r][b];
    // gRPC's methods only once called: most nodes serve no gRPC.
    if (r >= kRouteCount && total == 0) continue;
    uint64_t cumulative = 0;
    for (int b = 0; b < kBucketCount; ++b) {
      cumulative += buckets[r][b];
      const std::string le =
          b < static_cast<int>(kBucketNanos.size())
              ? Number(static_cast<double>(kBucketNanos[b]) / 1e9)
              : std::string("+Inf");
      Append(out, "snowflake_http_request_duration_seconds_bucket", labels[r],
             ",le=\"", le, "\"} ", cumulative, "\n");
    }
    Append(out, "snowflake_http_request_duration_seconds_sum", labels[r], "} ",
           Number(static_cast<double>(nanos[r]) / 1e9), "\n");
    Append(out, "snowflake_http_request_duration_seconds_count", labels[r],
           "} ", cumulative, "\n");
  }

  Single(out, "snowflake_http_connections_open", "gauge",
         "HTTP connections currently open.",
         static_cast<double>(open_connections_.load()));
  Single(out, "snowflake_http_connections_rejected_total", "counter",
         "Connections closed at once because the connection limit was "
         "reached.",
         static_cast<double>(rejected_connections_.load()));

  const GeneratorStats& gen = node.generator;
  Single(out, "snowflake_sequence_exhausted_waits_total", "counter",
         "Waits for the next tick because a tick's sequence ran out.",
         static_cast<double>(gen.exhausted_waits));
  Single(out, "snowflake_clock_backwards_total", "counter",
         "Issue attempts that found the clock behind the last issued tick.",
         static_cast<double>(gen.backwards_events));
  Single(out, "snowflake_clock_backwards_refused_total", "counter",
         "Of those, attempts refused because the clock was behind by more "
         "than the tolerance (answered 503).",
         static_cast<double>(gen.backwards_errors));
  Single(out, "snowflake_clock_backwards_max_drift_seconds", "gauge",
         "Largest backwards clock drift seen since start.",
         static_cast<double>(gen.max_drift_millis) / 1e3);
  Single(out, "snowflake_clock_wait_seconds_total", "counter",
         "Time spent waiting for the clock (next tick or catching up).",
         static_cast<double>(gen.clock_wait_micros) / 1e6);
  Single(out, "snowflake_hwm_refusals_total", "counter",
         "Issue attempts refused because the high-water mark had not been "
         "extended in time.",
         static_cast<double>(gen.high_water_mark_hits));

  Single(out, "snowflake_clock_monotonic_gap_seconds", "gauge",
         "The node's clock minus the system wall clock (non-zero only with "
         "clock source monotonic).",
         static_cast<double>(node.clock_gap_micros) / 1e6);
  const KernelClockState& kc = node.kernel_clock;
  Single(out, "snowflake_clock_synchronized", "gauge",
         "1 if the kernel reports the clock synchronized (adjtimex), else 0.",
         kc.synchronized ? 1 : 0);
  Single(out, "snowflake_clock_estimated_error_seconds", "gauge",
         "Kernel's estimated clock error (adjtimex esterror).",
         kc.estimated_error_seconds);
  Single(out, "snowflake_clock_max_error_seconds", "gauge",
         "Kernel's maximum clock error (adjtimex maxerror).",
         kc.max_error_seconds);
  Single(out, "snowflake_clock_offset_seconds", "gauge",
         "Kernel's current clock offset being corrected (adjtimex offset).",
         kc.offset_seconds);

  Single(out, "snowflake_ready", "gauge",
         "1 if the node holds a valid lease and may issue IDs, else 0.",
         node.ready ? 1 : 0);
  Single(out, "snowflake_worker_id", "gauge",
         "The (first) worker ID this node holds (-1 before it holds one).",
         static_cast<double>(node.started ? node.lease.worker_id : -1));
  Header(out, "snowflake_worker", "gauge",
         "1 per worker ID this node holds, labelled with its cluster and "
         "region: count by (cluster, worker_id) > 1 is a conflict.");
  for (const WorkerStatus& worker : node.workers) {
    if (!worker.started || worker.lease.worker_id < 0) continue;
    Append(out, "snowflake_worker{cluster=\"", EscapeLabel(node.cluster),
           "\",region=\"", EscapeLabel(node.region), "\",worker_id=\"",
           worker.lease.worker_id, "\"} 1\n");
  }
  Single(out, "snowflake_workers_wanted", "gauge",
         "Worker IDs this node was asked to hold (--workers).",
         static_cast<double>(node.workers.size()));
  Single(out, "snowflake_workers_held", "gauge",
         "Of those, the worker IDs it holds and issues under now: fewer "
         "than wanted means its range had too few free IDs.",
         static_cast<double>(node.workers_held));
  Single(out, "snowflake_coordinator_up", "gauge",
         "1 if the last call to the coordinator succeeded (always 1 in static "
         "mode), else 0.",
         node.lease.coordinator_up ? 1 : 0);
  Single(out, "snowflake_lease_time_left_seconds", "gauge",
         "Time until the lease is presumed expired unless renewed (-1: "
         "never, static mode); issuing goes on below the stored HWM.",
         node.lease.expires_in_millis < 0
             ? -1.0
             : static_cast<double>(node.lease.expires_in_millis) / 1e3);
  Single(out, "snowflake_lease_presumed_expired", "gauge",
         "1 while the coordinator is unreachable past the lease deadline: "
         "issuing goes on below the stored HWM only.",
         node.lease.presumed_expired ? 1 : 0);
  Single(out, "snowflake_lease_claims_lost_total", "counter",
         "Times the coordinator said this node's claim was gone (expired, "
         "revoked, deleted, taken, or etcd restored from a snapshot).",
         static_cast<double>(node.lease.claims_lost));
  Single(out, "snowflake_lease_renew_failures_total", "counter",
         "Lease keep-alives that failed.",
         static_cast<double>(node.lease.renew_failures));
  Single(out, "snowflake_worker_acquire_conflicts_total", "counter",
         "Worker-ID claims lost to another node while acquiring.",
         static_cast<double>(node.lease.acquire_conflicts));
  Single(out, "snowflake_lease_acquisitions_total", "counter",
         "Worker IDs acquired (more than 1: the lease was lost and taken "
         "again).",
         static_cast<double>(node.lease.acquisitions));

  Single(out, "snowflake_lease_ttl_seconds", "gauge",
         "The lease's TTL as the coordinator granted it (-1: static mode).",
         node.lease.ttl_millis < 0
             ? -1.0
             : static_cast<double>(node.lease.ttl_millis) / 1e3);
  const std::string cluster_labels =
      Cat("{cluster=\"", EscapeLabel(node.cluster), "\",region=\"",
          EscapeLabel(node.region), "\"}");
  Header(out, "snowflake_cluster_worker_ids", "gauge",
         "Worker IDs this node may claim: its region's range (coordinator "
         "modes only).");
  if (node.lease.range_size > 0) {
    Append(out, "snowflake_cluster_worker_ids", cluster_labels, " ",
           node.lease.range_size, "\n");
  }
  Header(out, "snowflake_cluster_worker_ids_free", "gauge",
         "Of those, the IDs no node held when the coordinator was last "
         "listed (about every 10 s; coordinator modes only).");
  if (node.lease.range_free >= 0) {
    Append(out, "snowflake_cluster_worker_ids_free", cluster_labels, " ",
           node.lease.range_free, "\n");
  }

  const double now_ms = static_cast<double>(node.now_micros) / 1e3;
  const Layout& layout = node.layout;
  const double headroom =
      node.started ? (static_cast<double>(
                          layout.MillisOfTick(node.high_water_mark_tick)) -
                      now_ms) /
                         1e3
                   : 0;
  Single(out, "snowflake_hwm_headroom_seconds", "gauge",
         "Time between now and the stored high-water mark; IDs stop (503) "
         "when it reaches zero.",
         headroom);
  Single(out, "snowflake_hwm_reserve_seconds", "gauge",
         "How far ahead of the clock the high-water mark is kept: the "
         "outage budget (coordinator modes) or the HWM reserve (static).",
         static_cast<double>(node.hwm_reserve_millis) / 1e3);
  Single(out, "snowflake_hwm_stored_timestamp_seconds", "gauge",
         "Unix time of the high-water mark last stored.",
         static_cast<double>(node.hwm.stored_unix_millis) / 1e3);
  Single(out, "snowflake_hwm_stores_total", "counter",
         "High-water marks stored.", static_cast<double>(node.hwm.stores));
  Single(out, "snowflake_hwm_store_failures_total", "counter",
         "Failed attempts to store the high-water mark.",
         static_cast<double>(node.hwm.store_failures));
  Single(out, "snowflake_time_range_remaining_seconds", "gauge",
         "Time left before the layout's time bits run out.",
         (static_cast<double>(layout.Limits().last_millis) - now_ms) / 1e3);
  Single(out, "snowflake_layout_capacity_ids_per_second", "gauge",
         "The most IDs one worker ID can issue per second (the sequence "
         "space of a tick, per tick length).",
         layout.Limits().ids_per_second);
  Single(out, "snowflake_start_wait_seconds", "gauge",
         "Time waited at start for the clock to pass the stored high-water "
         "mark.",
         static_cast<double>(node.start_wait_millis) / 1e3);
  Single(out, "snowflake_start_time_seconds", "gauge",
         "Unix time at which the process started.",
         static_cast<double>(node.start_unix_millis) / 1e3);

  Header(out, "snowflake_build_info", "gauge",
         "Always 1; labels describe the build and configuration.");
  Append(out, "snowflake_build_info{version=\"",
         EscapeLabel(build_info_.version), "\",layout=\"",
         EscapeLabel(build_info_.layout), "\",mode=\"",
         EscapeLabel(build_info_.mode), "\",clock=\"",
         EscapeLabel(node.clock_source), "\"} 1\n");
  Header(out, "snowflake_node_info", "gauge",
         "Always 1; labels name the node, its cluster, region and worker "
         "lease mode.");
  Append(out, "snowflake_node_info{node=\"", EscapeLabel(node.name),
         "\",cluster=\"", EscapeLabel(node.cluster), "\",region=\"",
         EscapeLabel(node.region), "\",mode=\"", EscapeLabel(build_info_.mode),
         "\"} 1\n");

  // The names every Prometheus client library uses, so that generic
  // dashboards and alerts work.
  if (process.cpu_seconds >= 0) {
    Single(out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.",
           process.cpu_seconds);
  }
  if (process.resident_bytes >= 0) {
    Single(out, "process_resident_memory_bytes", "gauge",
           "Resident memory size in bytes.",
           static_cast<double>(process.resident_bytes));
  }
  if (process.virtual_bytes >= 0) {
    Single(out, "process_virtual_memory_bytes", "gauge",
           "Virtual memory size in bytes.",
           static_cast<double>(process.virtual_bytes));
  }
  if (process.open_fds >= 0) {
    Single(out, "process_open_fds", "gauge", "Number of open file descriptors.",
           static_cast<double>(process.open_fds));
  }
  if (process.max_fds >= 0) {
    Single(out, "process_max_fds", "gauge",
           "Maximum number of open file descriptors.",
           static_cast<double>(process.max_fds));
  }
  Single(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.",
         static_cast<double>(node.start_unix_millis) / 1e3);
  return out;
}

}  // namespace snowflake
