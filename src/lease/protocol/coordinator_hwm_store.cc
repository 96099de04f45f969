#include "src/lease/protocol/coordinator_hwm_store.h"

#include <utility>

#include "src/base/strings.h"

namespace snowflake::lease_protocol {

CoordinatorHwmStore::CoordinatorHwmStore(
    Coordinator& coordinator, int64_t worker_id, int64_t session,
    std::function<void(const std::string&)> on_lost)
    : coordinator_(coordinator),
      worker_id_(worker_id),
      session_(session),
      on_lost_(std::move(on_lost)) {}

absl::StatusOr<std::optional<int64_t>> CoordinatorHwmStore::Load() {
  MutexLock lock(&mu_);
  auto mark = coordinator_.ReadMark(worker_id_);
  if (!mark.ok()) return mark.status();
  known_version_ = mark->version;
  if (!mark->damage.empty()) return absl::DataLossError(mark->damage);
  return mark->unix_millis;
}

absl::Status CoordinatorHwmStore::Store(int64_t unix_millis) {
  MutexLock lock(&mu_);
  // Two rounds: the second runs on the version the first one found.
  for (int round = 0; round < 2; ++round) {
    auto cas = coordinator_.CompareAndSetMark(worker_id_, session_,
                                              known_version_, unix_millis);
    if (!cas.ok()) return cas.status();
    if (cas->applied) {
      known_version_ = cas->version;
      return absl::OkStatus();
    }
    if (!cas->claim_held) {
      on_lost_(cas->reason);
      return absl::FailedPreconditionError(
          base::Cat(cas->reason, "; its high-water mark is left alone"));
    }
    known_version_ = cas->current.version;
    if (!cas->current.damage.empty()) {
      return absl::DataLossError(cas->current.damage);
    }
    if (cas->current.unix_millis.has_value() &&
        *cas->current.unix_millis >= unix_millis) {
      return absl::OkStatus();
    }
  }
  return absl::AbortedError(
      base::Cat(Describe(),
                " changed under two compare-and-set rounds in a row; "
                "retrying later"));
}

std::string CoordinatorHwmStore::Describe() const {
  return coordinator_.DescribeMark(worker_id_);
}

Version CoordinatorHwmStore::known_version() const {
  MutexLock lock(&mu_);
  return known_version_;
}

}  // namespace snowflake::lease_protocol
