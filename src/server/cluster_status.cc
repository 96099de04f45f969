#include "src/server/cluster_status.h"

#include <utility>

#include "src/base/strings.h"

namespace snowflake {
namespace {

using Json = nlohmann::json;

// In words, for the page: what a person can act on first.
std::string ErrorText(const ClusterStatusOptions& options,
                      const absl::Status& error) {
  const bool unreachable =
      absl::IsUnavailable(error) || absl::IsDeadlineExceeded(error);
  return (unreachable
              ? "coordinator unreachable: "
              : "cannot read the cluster from " + options.coordinator + ": ") +
         base::Message(error);
}

Json HolderJson(const ClusterStatusOptions& options,
                const ClusterWorker& worker, int64_t now_ms) {
  const cluster_schema::Holder& holder = *worker.holder;
  Json entry = {
      {"worker_id", worker.worker_id},
      {"node", holder.node},
      {"addresses", holder.addresses},
      {"region", holder.region},
      {"self", holder.node == options.node},
      {"hwm_ms", worker.hwm_millis ? Json(*worker.hwm_millis) : Json(nullptr)},
      {"hwm_ahead_ms",
       worker.hwm_millis ? Json(*worker.hwm_millis - now_ms) : Json(nullptr)},
      // Null on ZooKeeper: a session's time left is not visible to others.
      {"lease_left_s", worker.lease_left_seconds
                           ? Json(*worker.lease_left_seconds)
                           : Json(nullptr)},
  };
  if (!worker.lease_error.empty()) entry["lease_error"] = worker.lease_error;
  if (!worker.bad_entry.empty()) entry["bad_entry"] = worker.bad_entry;
  return entry;
}

Json FreeJson(const std::string& region, const WorkerRange& range,
              const ClusterSnapshot& snapshot) {
  const int64_t held = snapshot.HeldIn(range);
  return {{"region", region},
          {"first", range.first},
          {"last", range.last},
          {"held", held},
          {"free", range.size() - held}};
}

}  // namespace

Json ClusterJson(const ClusterStatusOptions& options,
                 const ClusterReading& reading, int64_t now_ms) {
  Json json = {
      {"coordinator", options.coordinator},
      {"cluster", options.cluster},
      {"read_ms", reading.read_ms},
      {"age_ms", reading.read_ms > 0 ? now_ms - reading.read_ms : 0},
      // Nothing read yet, nothing failed: the first read is
      // under way.
      {"reading", reading.read_ms == 0 && reading.error.ok()},
      {"error", reading.error.ok() ? Json(nullptr)
                                   : Json(ErrorText(options, reading.error))}};
  Json holders = Json::array();
  Json free = Json::array();
  if (reading.snapshot) {
    for (const auto& [id, worker] : reading.snapshot->workers) {
      if (worker.holder) holders.push_back(HolderJson(options, worker, now_ms));
    }
    if (options.regions.empty()) {
      free.push_back(FreeJson("", options.workers, *reading.snapshot));
    }
    for (const auto& [name, range] : options.regions.regions()) {
      free.push_back(FreeJson(name, range, *reading.snapshot));
    }
  }
  json["holders"] = std::move(holders);
  json["free"] = std::move(free);
  return json;
}

ClusterStatus::ClusterStatus(ClusterStatusOptions options, Reader read,
                             std::function<int64_t()> now_ms)
    : options_(std::move(options)),
      read_(std::move(read)),
      now_ms_(std::move(now_ms)),
      thread_([this] { Run(); }) {}

ClusterStatus::~ClusterStatus() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  thread_.join();
}

Json ClusterStatus::ToJson(int64_t now_ms) {
  bool wake = false;
  ClusterReading reading;
  {
    MutexLock lock(&mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!wanted_ && (!last_try_ || now - *last_try_ >= options_.refresh)) {
      wanted_ = true;
      wake = true;
    }
    reading = reading_;
  }
  if (wake) wake_.SignalAll();
  return ClusterJson(options_, reading, now_ms);
}

void ClusterStatus::Run() {
  for (;;) {
    mu_.Lock();
    while (!wanted_ && !stopping_) {
      wake_.WaitFor(&mu_, std::chrono::milliseconds(1000));
    }
    if (stopping_) {
      mu_.Unlock();
      return;
    }
    last_try_ = std::chrono::steady_clock::now();
    mu_.Unlock();
    // Unlocked: the coordinator may take up to the reader's timeout, and
    // requests meanwhile get the last reading.
    absl::StatusOr<ClusterSnapshot> snapshot = read_();
    const int64_t read_ms = now_ms_();
    MutexLock lock(&mu_);
    wanted_ = false;
    if (snapshot.ok()) {
      reading_.snapshot = *std::move(snapshot);
      reading_.read_ms = read_ms;
      reading_.error = absl::OkStatus();
    } else {
      reading_.error = snapshot.status();
    }
  }
}

}  // namespace snowflake
