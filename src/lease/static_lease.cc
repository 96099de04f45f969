#include "src/lease/static_lease.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/lease/state_dir.h"

namespace snowflake {
namespace {

// Logs that `worker_id` starts without a mark in `state_dir`, and which
// marks the directory does hold: another worker's mark there usually means
// a changed --worker-id, and none at all a lost or misplaced directory.
void WarnNoHwm(int64_t worker_id, const std::string& state_dir,
               const std::string& hwm_path, int64_t node_first,
               int64_t node_last) {
  std::vector<int64_t> others = WorkersWithHwm(state_dir);
  // The node's own other workers' marks say nothing about this one.
  std::erase_if(
      others, [&](int64_t id) { return id >= node_first && id <= node_last; });
  std::string found = "none";
  std::string holds = "holds no HWM file for any worker";
  if (!others.empty()) {
    constexpr size_t kMaxListed = 10;
    const std::vector<int64_t> listed(
        others.begin(), others.begin() + static_cast<std::ptrdiff_t>(std::min(
                                             others.size(), kMaxListed)));
    found = absl::StrCat(
        others.size() == 1 ? "a HWM for worker " : "HWMs for workers ",
        absl::StrJoin(listed, ", "),
        others.size() > kMaxListed
            ? absl::StrCat(" and ", others.size() - kMaxListed, " more")
            : "");
    holds = absl::StrCat("holds ", found, " but none for worker ", worker_id);
  }
  spdlog::warn(
      "event=hwm_missing worker_id={} hwm_file={} found=\"{}\" "
      "action=\"state dir {} {}: starting without a high-water mark; if "
      "this worker issued IDs before, with a clock set back it could repeat "
      "them. If it did, stop and restore {}, or fix --worker-id or "
      "--state-dir\"",
      worker_id, hwm_path, found, state_dir.empty() ? "." : state_dir, holds,
      hwm_path);
}

}  // namespace

std::string StaticHwmPath(const std::string& state_dir, int64_t worker_id) {
  std::string dir = state_dir.empty() ? "." : state_dir;
  if (dir.back() != '/') dir += '/';
  return dir + "hwm-worker-" + std::to_string(worker_id);
}

StaticLease::StaticLease(int64_t worker_id, std::string state_dir,
                         int64_t node_first, int64_t node_last)
    : worker_id_(worker_id),
      node_first_(node_first < 0 ? worker_id : node_first),
      node_last_(node_last < 0 ? worker_id : node_last),
      state_dir_(std::move(state_dir)),
      hwm_path_(StaticHwmPath(state_dir_, worker_id)) {}

absl::StatusOr<LeaseGrant> StaticLease::Acquire() {
  if (store_ == nullptr) {
    auto store = FileHwmStore::Open(hwm_path_);
    if (!store.ok()) return store.status();
    // Anything under the name (a symlink, a directory, an unreadable
    // file) is for the store's Load to judge; only no entry is a fresh
    // start.
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(hwm_path_, ec);
    if (!ec || ec == std::errc::no_such_file_or_directory) {
      if (!std::filesystem::exists(status)) {
        WarnNoHwm(worker_id_, state_dir_, hwm_path_, node_first_, node_last_);
      }
    }
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
