// The high-water mark (docs/operations.md): a tick no ID of this worker has
// reached, recorded durably before the generator may go near it. On start a
// node waits until its clock passes the stored mark, so neither a clock
// stepped back between runs nor the next holder of the worker ID can reuse a
// tick.
#ifndef SNOWFLAKE_SRC_CORE_HWM_H_
#define SNOWFLAKE_SRC_CORE_HWM_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "snowflake/clock.h"
#include "snowflake/generator.h"
#include "src/base/mutex.h"

namespace snowflake {

// Where a high-water mark lives. Marks are stored as Unix milliseconds, so
// they stay meaningful whatever the layout. Implementations are thread-safe.
class HwmStore {
 public:
  virtual ~HwmStore() = default;
  // The stored mark, or nullopt if none was ever stored.
  virtual absl::StatusOr<std::optional<int64_t>> Load() = 0;
  // Durably records `unix_millis`; returns only once it would survive a
  // crash.
  virtual absl::Status Store(int64_t unix_millis) = 0;
  // Where it lives, for messages ("file /var/lib/snowflake/hwm").
  virtual std::string Describe() const = 0;
};

// A small text file, replaced atomically (temp file, fsync, rename, fsync of
// the directory).
class FileHwmStore final : public HwmStore {
 public:
  // Creates the directory of `path` if needed. Errors: kInvalidArgument or
  // kPermissionDenied naming the path and the system error.
  static absl::StatusOr<std::unique_ptr<FileHwmStore>> Open(std::string path);

  // nullopt if the file does not exist. Strict: the file must be exactly
  // what Store writes ('#' comment lines and one "hwm_unix_ms=<digits>"
  // line, each ending in a newline, the mark a Unix time before the year
  // 10000). Errors: kDataLoss for anything else (cut short, two marks, a
  // sign, a space, a mark out of range; the message names the file and the
  // line and says how to recover); kPermissionDenied or kInternal if it
  // cannot be read.
  absl::StatusOr<std::optional<int64_t>> Load() override;
  // Errors: kInvalidArgument if `unix_millis` is not from 1970 to the year
  // 9999 (Load would refuse it); kPermissionDenied or kInternal naming the
  // path and the system error.
  absl::Status Store(int64_t unix_millis) override;
  std::string Describe() const override;

 private:
  explicit FileHwmStore(std::string path) : path_(std::move(path)) {}
  Mutex mu_;  // Serializes writers of the temp file.
  const std::string path_;
};

// The mark in `text`, the whole content of a high-water mark file, read as
// strictly as FileHwmStore::Load reads it (at most 4096 bytes); `name`
// names the file in messages. Errors: kDataLoss as Load's. Pure and
// thread-safe.
absl::StatusOr<int64_t> ParseHwmFile(std::string_view text,
                                     std::string_view name);

// Waits (up to `max_wait_millis`) until `clock` passes the mark stored in
// `store`, and returns the first tick of `layout` a generator may issue.
// Errors: kUnavailable/kClockBackwards with the gap if the clock is further
// behind; kDataLoss if the stored mark is not a Unix time from 1970 to the
// year 9999; the store's errors.
absl::StatusOr<int64_t> AwaitHighWaterMark(HwmStore& store,
                                           const Layout& layout, Clock& clock,
                                           int64_t max_wait_millis);

struct HwmKeeperOptions {
  // How far ahead of the clock each new mark is set: how long issuing goes
  // on while the store cannot be written.
  int64_t reserve_millis = 5000;
  // How often the mark is raised: a new one is stored once the headroom
  // falls below reserve - write interval. 0: half the reserve.
  int64_t write_interval_millis = 0;
};

struct HwmKeeperStats {
  int64_t stored_unix_millis = 0;  // The mark last stored.
  uint64_t stores = 0;
  uint64_t store_failures = 0;
  std::string last_error;  // Empty if the last store succeeded.
};

// Keeps a generator's high-water mark ahead of the clock from a background
// thread: stores a new mark, reserve ahead, whenever the headroom falls below
// reserve - write interval, and only then raises the generator's bound. A
// new mark is never below the generator's bound or the last stored mark,
// whatever the clock did in between. A failed store is retried at the next
// poll; meanwhile the generator goes on below the bound it has. While the
// clock is before the layout's epoch nothing is stored (nothing can be
// issued, and a mark at the epoch would hold back the next run once the
// epoch is fixed).
// Thread safety: all methods are thread-safe. Not copyable.
class HwmKeeper {
 public:
  // Stores the first mark synchronously and starts the thread. The
  // generator, store and clock must outlive the keeper.
  static absl::StatusOr<std::unique_ptr<HwmKeeper>> Start(
      Generator& generator, HwmStore& store, Clock& clock,
      const HwmKeeperOptions& options);
  ~HwmKeeper();
  HwmKeeper(const HwmKeeper&) = delete;
  HwmKeeper& operator=(const HwmKeeper&) = delete;

  // Stops the generator (no ID is issued after this), stops the thread and
  // stores the mark just above the last issued ID, so the next run can start
  // at once. Idempotent.
  absl::Status Shutdown();

  // Stops the thread without storing anything: for a generator whose worker
  // ID is no longer held (its store belongs to the next holder). The caller
  // stops the generator. Idempotent.
  void Abandon();

  HwmKeeperStats stats() const;

 private:
  HwmKeeper(Generator& generator, HwmStore& store, Clock& clock,
            const HwmKeeperOptions& options);
  absl::Status Extend();
  void Run();
  void StopThread();

  Generator& generator_;
  HwmStore& store_;
  Clock& clock_;
  const HwmKeeperOptions options_;

  mutable Mutex mu_;
  CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  HwmKeeperStats stats_ ABSL_GUARDED_BY(mu_);
  int64_t stored_tick_ ABSL_GUARDED_BY(mu_) = 0;  // The mark last stored.
  std::thread thread_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_CORE_HWM_H_
