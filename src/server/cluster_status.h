// The status page's cluster view (docs/operations.md, "The status page";
// /v1/status's `cluster`, docs/api.md): every holder of a worker ID in the
// cluster and the free IDs per region, as the coordinator has them. Read on
// a thread of its own, at most once a refresh interval and only while
// someone asks, so that a slow or unreachable coordinator never holds up a
// request: a request gets the last reading, or the error of the last try.
#ifndef SNOWFLAKE_SRC_SERVER_CLUSTER_STATUS_H_
#define SNOWFLAKE_SRC_SERVER_CLUSTER_STATUS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "src/base/mutex.h"
#include "src/lease/cluster_view.h"
#include "src/lease/region_map.h"
#include "src/server/limits.h"

namespace snowflake {

struct ClusterStatusOptions {
  std::string coordinator;  // "etcd" or "ZooKeeper", for people.
  std::string cluster;      // Its name.
  // This node's name as it publishes it in its claims: its rows are marked.
  std::string node;
  // Free IDs are counted per region of the map; with no region, over
  // `workers` (the layout's every worker ID) as one.
  RegionMap regions;
  WorkerRange workers;
  std::chrono::milliseconds refresh{limits::kClusterRefreshMillis};
};

// What the last reading found, or the error of the last try.
struct ClusterReading {
  std::optional<ClusterSnapshot> snapshot;  // Of the last good read.
  int64_t read_ms = 0;  // Unix ms when it was read; 0: never.
  absl::Status error;   // Of the last try, if it failed.
};

// The JSON of `reading` (docs/api.md): holders with their HWM ahead of
// `now_ms`, free IDs per region, the error in words.
nlohmann::json ClusterJson(const ClusterStatusOptions& options,
                           const ClusterReading& reading, int64_t now_ms);

// Thread safety: ToJson may be called from any number of threads at once;
// `read` is only ever called on the object's own thread. Not copyable.
class ClusterStatus {
 public:
  using Reader = std::function<absl::StatusOr<ClusterSnapshot>()>;

  // `read` reads the cluster from the coordinator, bounded by its own
  // timeout. `now_ms` gives the Unix ms readings are stamped with.
  ClusterStatus(ClusterStatusOptions options, Reader read,
                std::function<int64_t()> now_ms);
  // Waits for a read under way (at most the reader's timeout).
  ~ClusterStatus();
  ClusterStatus(const ClusterStatus&) = delete;
  ClusterStatus& operator=(const ClusterStatus&) = delete;

  // The last reading as ClusterJson, at once; asks for a new one when it is
  // older than the refresh interval.
  nlohmann::json ToJson(int64_t now_ms);

 private:
  void Run();

  const ClusterStatusOptions options_;
  const Reader read_;
  const std::function<int64_t()> now_ms_;
  Mutex mu_;
  CondVar wake_;
  ClusterReading reading_ ABSL_GUARDED_BY(mu_);
  // When the last read began; none yet: nullopt.
  std::optional<std::chrono::steady_clock::time_point> last_try_
      ABSL_GUARDED_BY(mu_);
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started once the rest is built.
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_SERVER_CLUSTER_STATUS_H_
