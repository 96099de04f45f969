// The node's state directory (docs/operations.md): locked for the life of
// the process, so that two nodes can never share one. It holds one local
// high-water mark per worker ID (StaticHwmPath) in every worker mode: the
// mark itself in static mode, a floor under the coordinator's in the
// others, so that a mode switch or a coordinator restored from an old
// snapshot cannot take a node below IDs it already issued.
#ifndef SNOWFLAKE_SRC_LEASE_STATE_DIR_H_
#define SNOWFLAKE_SRC_LEASE_STATE_DIR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/core/hwm.h"

namespace snowflake {

// Thread safety: immutable after Open; every method may be called from any
// thread. Not copyable. The lock is released when the object is destroyed
// (or the process ends, however it ends).
class StateDir {
 public:
  // Creates `path` if needed and takes an exclusive lock on `<path>/lock`,
  // which records this process's PID. Errors: kFailedPrecondition when
  // another process holds the lock (naming the directory and that PID),
  // kPermissionDenied or kInternal naming the path and the system error.
  static absl::StatusOr<std::unique_ptr<StateDir>> Open(std::string path);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  const std::string& path() const { return path_; }
  // True when the directory held no high-water mark and no identity file
  // when it was opened: a first start, or a state directory that was lost.
  bool fresh() const { return fresh_; }

 private:
  StateDir(std::string path, int fd, bool fresh)
      : path_(std::move(path)), lock_fd_(fd), fresh_(fresh) {}

  const std::string path_;
  const int lock_fd_;
  const bool fresh_;
};

// The worker IDs whose high-water mark file (StaticHwmPath) `state_dir`
// holds, in increasing order; none if it cannot be listed. Thread-safe.
std::vector<int64_t> WorkersWithHwm(const std::string& state_dir);

// A high-water mark kept in two places: the local floor in the state
// directory and the coordinator's store. Load returns the larger; Store
// writes the local floor first, then the coordinator, and succeeds only if
// both do, so the generator's bound never passes either. Thread-safe.
class FlooredHwmStore final : public HwmStore {
 public:
  // `remote` must outlive this store.
  FlooredHwmStore(std::unique_ptr<FileHwmStore> local, HwmStore& remote)
      : local_(std::move(local)), remote_(remote) {}

  absl::StatusOr<std::optional<int64_t>> Load() override;
  absl::Status Store(int64_t unix_millis) override;
  std::string Describe() const override;

  HwmStore& local() { return *local_; }
  HwmStore& remote() { return remote_; }

 private:
  const std::unique_ptr<FileHwmStore> local_;
  HwmStore& remote_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_STATE_DIR_H_
