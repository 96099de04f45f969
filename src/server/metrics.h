// Prometheus metrics of a node, rendered by hand in the text exposition
// format (version 0.0.4). Request counting is a few relaxed atomic adds on a
// per-thread shard, so it costs next to nothing on the hot path.
#ifndef SNOWFLAKE_SRC_SERVER_METRICS_H_
#define SNOWFLAKE_SRC_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "src/base/mutex.h"
#include "src/server/internal/history.h"
#include "src/server/internal/process_stats.h"
#include "src/server/node.h"

namespace snowflake {

// The routes HTTP requests are counted under (transport="http").
enum class Route : uint8_t {
  kId,
  kIds,
  kDecode,
  kInfo,
  kHealthz,
  kReadyz,
  kMetrics,
  kStatus,  // GET /v1/status: /v1/info and the recent history.
  kPage,    // GET / and /status: the status page (HTML).
  kOther,   // Unknown paths and requests that could not be parsed.
};
inline constexpr int kRouteCount = 10;
// "/v1/id", ..., "other".
std::string_view RouteName(Route route);

// The methods of gRPC's snowflake.v1.IdService, counted under the same
// families with transport="grpc" and the method's path as the route.
enum class GrpcMethod : uint8_t { kNextIds, kStreamIds, kDecode, kInfo };
inline constexpr int kGrpcMethodCount = 4;
// "/snowflake.v1.IdService/NextIds", ...
std::string_view GrpcMethodName(GrpcMethod method);

// Labels of snowflake_build_info.
struct BuildInfo {
  std::string version;
  std::string layout;  // "41/10/12".
  std::string mode;    // Worker lease mode.
};

// Thread safety: every method may be called from any thread. Not copyable.
class Metrics {
 public:
  explicit Metrics(BuildInfo build_info);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished HTTP request: its route, HTTP status and duration.
  void RecordRequest(Route route, int http_status, int64_t duration_nanos);
  // One finished gRPC call: its method, status code and duration (for
  // StreamIds, the stream's whole life).
  void RecordGrpcCall(GrpcMethod method, absl::StatusCode code,
                      int64_t duration_nanos);
  // IDs handed to clients.
  void AddIdsIssued(uint64_t count);
  void ConnectionOpened() { open_connections_.fetch_add(1); }
  void ConnectionClosed() { open_connections_.fetch_sub(1); }
  void ConnectionRejected() { rejected_connections_.fetch_add(1); }

  uint64_t ids_issued() const;
  uint64_t requests(Route route, int http_status) const;
  uint64_t grpc_calls(GrpcMethod method, absl::StatusCode code) const;

  // The whole exposition: these counters plus the node's state and the
  // process's resource use. Also brings the history up to the node's now
  // (a scrape is a reader: see internal::History::Update).
  std::string Render(const NodeStatus& node,
                     const internal::ProcessStats& process) const;

  // The last internal::History::kCapacity seconds of IDs issued and of the
  // latency of ID requests (HTTP /v1/id and /v1/ids, gRPC NextIds), oldest
  // first, brought up to `now_unix_ms` (the node's clock) first.
  std::vector<internal::HistorySample> RecentHistory(int64_t now_unix_ms) const;

  // The HTTP statuses counted individually; others count as code="other".
  static constexpr std::array<int, 9> kStatuses = {200, 400, 404, 405, 408,
                                                   413, 431, 500, 503};
  // Histogram bucket upper bounds in nanoseconds (+Inf is implied).
  // From 5 us: a healthy node answers one ID in about 10 us.
  static constexpr std::array<int64_t, 17> kBucketNanos = {
      5'000,       10'000,       25'000,     50'000,      100'000,
      250'000,     500'000,      1'000'000,  2'500'000,   5'000'000,
      10'000'000,  25'000'000,   50'000'000, 100'000'000, 250'000'000,
      500'000'000, 1'000'000'000};

 private:
  static constexpr int kShards = 16;
  static constexpr int kStatusCount = kStatuses.size() + 1;  // + other.
  // gRPC's codes, OK (0) to UNAUTHENTICATED (16), counted after the HTTP
  // statuses.
  static constexpr int kGrpcCodeCount = 17;
  static constexpr int kCodeCount = kStatusCount + kGrpcCodeCount;
  static constexpr int kBucketCount = kBucketNanos.size() + 1;
  // The HTTP routes, then the gRPC methods.
  static constexpr int kSeriesCount = kRouteCount + kGrpcMethodCount;

  struct alignas(64) Shard {
    std::atomic<uint64_t> requests[kSeriesCount][kCodeCount] = {};
    std::atomic<uint64_t> buckets[kSeriesCount][kBucketCount] = {};
    std::atomic<uint64_t> duration_nanos[kSeriesCount] = {};
    std::atomic<uint64_t> ids = 0;
  };

  static int StatusIndex(int http_status);
  static int GrpcCodeIndex(absl::StatusCode code);
  void Record(int series, int code_index, int64_t duration_nanos);
  Shard& LocalShard();
  // The counters the history differences, summed over the shards.
  internal::HistoryTotals SumHistoryTotals() const;
  void UpdateHistory(int64_t now_unix_ms) const;

  const BuildInfo build_info_;
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  // Readers (the status page, scrapes) fill it, never the request path.
  mutable Mutex history_mu_;
  mutable internal::History history_ ABSL_GUARDED_BY(history_mu_){kBucketNanos};
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_METRICS_H_
