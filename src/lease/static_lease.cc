#include "src/lease/static_lease.h"

#include <utility>

namespace snowflake {

std::string StaticHwmPath(const std::string& state_dir, int64_t worker_id) {
  std::string dir = state_dir.empty() ? "." : state_dir;
  if (dir.back() != '/') dir += '/';
  return dir + "hwm-worker-" + std::to_string(worker_id);
}

StaticLease::StaticLease(int64_t worker_id, std::string state_dir)
    : worker_id_(worker_id), hwm_path_(StaticHwmPath(state_dir, worker_id)) {}

absl::StatusOr<LeaseGrant> StaticLease::Acquire() {
  if (store_ == nullptr) {
    auto store = FileHwmStore::Open(hwm_path_);
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
  }
  held_.store(true, std::memory_order_relaxed);
  return LeaseGrant{worker_id_, store_.get()};
}

absl::Status StaticLease::Release() {
  held_.store(false, std::memory_order_relaxed);
  return absl::OkStatus();
}

LeaseInfo StaticLease::Info() const {
  LeaseInfo info;
  info.mode = "static";
  info.held = Valid();
  info.worker_id = worker_id_;
  info.hwm_store = "file " + hwm_path_;
  return info;
}

}  // namespace snowflake
