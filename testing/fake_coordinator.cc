#include "testing/fake_coordinator.h"

#include <utility>

#include "src/base/strings.h"

namespace snowflake::testing {

namespace lp = lease_protocol;

class FakeCoordinator::WatchHandle final : public lp::ClaimWatch {
 public:
  WatchHandle(FakeCoordinator& owner, int64_t id) : owner_(owner), id_(id) {}
  ~WatchHandle() override { owner_.Unwatch(id_); }

 private:
  FakeCoordinator& owner_;
  const int64_t id_;
};

absl::Status FakeCoordinator::Reach() const {
  if (reachable_) return absl::OkStatus();
  return absl::UnavailableError("fake coordinator unreachable");
}

std::string FakeCoordinator::DescribeMark(int64_t worker_id) const {
  return base::Cat("fake hwm/", worker_id);
}

std::string FakeCoordinator::DescribeClaim(int64_t worker_id) const {
  return base::Cat("fake workers/", worker_id);
}

std::string FakeCoordinator::DescribeConfig() const { return "fake config"; }

absl::StatusOr<std::string> FakeCoordinator::CreateOrReadConfig(
    const std::string& want) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  if (!config_) config_ = want;
  return *config_;
}

absl::StatusOr<lp::Session> FakeCoordinator::OpenSession(int64_t ttl_seconds) {
  const int64_t sent = clock_.NowMicros();
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  const int64_t id = next_session_++;
  sessions_[id] = ttl_seconds * 1000;
  return lp::Session{id, ttl_seconds * 1000, sent};
}

absl::StatusOr<lp::SessionEvidence> FakeCoordinator::KeepAlive(
    int64_t session) {
  const int64_t sent = clock_.NowMicros();
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  ++keep_alives_;
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    return lp::SessionEvidence{false, "fake session expired", sent, 0};
  }
  return lp::SessionEvidence{true, "", sent, it->second};
}

absl::Status FakeCoordinator::CloseSession(int64_t session) {
  std::vector<std::function<void(const lp::ClaimEvent&)>> notify;
  {
    MutexLock lock(&mu_);
    if (absl::Status s = Reach(); !s.ok()) return s;
    if (sessions_.erase(session) == 0) {
      return absl::NotFoundError("no such session");
    }
    std::vector<int64_t> ids;
    for (const auto& [id, claim] : claims_) {
      if (claim.first == session) ids.push_back(id);
    }
    for (int64_t id : ids) {
      auto more = RemoveClaim(id, base::Cat("session ", session, " closed"));
      notify.insert(notify.end(), more.begin(), more.end());
    }
  }
  for (const auto& f : notify) {
    f(lp::ClaimEvent{lp::ClaimEvent::Type::kLost, "session closed"});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<lp::ClaimEntry>> FakeCoordinator::ListClaims() {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  std::vector<lp::ClaimEntry> out;
  for (const auto& [id, claim] : claims_) out.push_back({id, claim.second});
  return out;
}

absl::StatusOr<std::vector<lp::MarkEntry>> FakeCoordinator::ListMarks() {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  std::vector<lp::MarkEntry> out;
  for (const auto& [id, mark] : marks_) out.push_back({id, mark.first});
  return out;
}

absl::StatusOr<lp::ClaimResult> FakeCoordinator::CreateClaim(
    int64_t worker_id, const lp::HolderInfo& holder, int64_t session) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  if (sessions_.count(session) == 0) {
    return absl::NotFoundError("no such session");
  }
  auto it = claims_.find(worker_id);
  if (it != claims_.end()) {
    return lp::ClaimResult{it->second.first == session, version_};
  }
  claims_[worker_id] = {session, holder.node};
  return lp::ClaimResult{true, ++version_};
}

absl::StatusOr<lp::ClaimCheck> FakeCoordinator::VerifyClaim(int64_t worker_id,
                                                            int64_t session) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  if (!went_back_.empty()) return lp::ClaimCheck{false, went_back_};
  auto it = claims_.find(worker_id);
  if (it == claims_.end() || it->second.first != session) {
    return lp::ClaimCheck{false, "fake claim gone"};
  }
  return lp::ClaimCheck{true, ""};
}

absl::StatusOr<std::unique_ptr<lp::ClaimWatch>> FakeCoordinator::WatchClaim(
    int64_t worker_id, int64_t /*session*/, int64_t /*position*/,
    std::function<void(const lp::ClaimEvent&)> on_event) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  const int64_t id = next_watch_++;
  watches_[id] = Watch{worker_id, std::move(on_event)};
  return std::unique_ptr<lp::ClaimWatch>(new WatchHandle(*this, id));
}

absl::StatusOr<lp::StoredMark> FakeCoordinator::ReadMark(int64_t worker_id) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  auto it = marks_.find(worker_id);
  if (it == marks_.end()) return lp::StoredMark{};
  lp::StoredMark stored;
  stored.unix_millis = it->second.first;
  stored.version = lp::Version{true, it->second.second};
  return stored;
}

absl::StatusOr<lp::CasResult> FakeCoordinator::CompareAndSetMark(
    int64_t worker_id, int64_t session, const lp::Version& expected,
    int64_t unix_millis) {
  MutexLock lock(&mu_);
  if (absl::Status s = Reach(); !s.ok()) return s;
  lp::CasResult cas;
  auto claim = claims_.find(worker_id);
  if (claim == claims_.end() || claim->second.first != session) {
    cas.claim_held = false;
    cas.reason = base::Cat("fake claim ", worker_id, " not held");
    return cas;
  }
  auto it = marks_.find(worker_id);
  const lp::Version current =
      it == marks_.end() ? lp::Version{} : lp::Version{true, it->second.second};
  if (!(current == expected)) {
    cas.current.version = current;
    if (it != marks_.end()) cas.current.unix_millis = it->second.first;
    return cas;
  }
  marks_[worker_id] = {unix_millis, ++version_};
  cas.applied = true;
  cas.version = lp::Version{true, version_};
  return cas;
}

lp::HistoryEvidence FakeCoordinator::TakeHistory() {
  MutexLock lock(&mu_);
  return lp::HistoryEvidence{went_back_, false};
}

void FakeCoordinator::ResetHistory() {
  MutexLock lock(&mu_);
  went_back_.clear();
}

std::vector<std::function<void(const lp::ClaimEvent&)>>
FakeCoordinator::RemoveClaim(int64_t worker_id, const std::string& /*why*/) {
  if (claims_.erase(worker_id) == 0) return {};
  ++version_;
  return WatchersOf(worker_id);
}

std::vector<std::function<void(const lp::ClaimEvent&)>>
FakeCoordinator::WatchersOf(int64_t worker_id) const {
  std::vector<std::function<void(const lp::ClaimEvent&)>> notify;
  for (const auto& [id, watch] : watches_) {
    if (watch.worker_id == worker_id) notify.push_back(watch.on_event);
  }
  return notify;
}

void FakeCoordinator::Unwatch(int64_t handle) {
  MutexLock lock(&mu_);
  watches_.erase(handle);
}

void FakeCoordinator::SetReachable(bool reachable) {
  MutexLock lock(&mu_);
  reachable_ = reachable;
}

void FakeCoordinator::ExpireSession(int64_t session) {
  std::vector<std::function<void(const lp::ClaimEvent&)>> notify;
  {
    MutexLock lock(&mu_);
    sessions_.erase(session);
    std::vector<int64_t> ids;
    for (const auto& [id, claim] : claims_) {
      if (claim.first == session) ids.push_back(id);
    }
    for (int64_t id : ids) {
      auto more = RemoveClaim(id, "expired");
      notify.insert(notify.end(), more.begin(), more.end());
    }
  }
  for (const auto& f : notify) {
    f(lp::ClaimEvent{lp::ClaimEvent::Type::kLost, "fake session expired"});
  }
}

void FakeCoordinator::DeleteClaim(int64_t worker_id) {
  std::vector<std::function<void(const lp::ClaimEvent&)>> notify;
  {
    MutexLock lock(&mu_);
    notify = RemoveClaim(worker_id, "deleted");
  }
  for (const auto& f : notify) {
    f(lp::ClaimEvent{lp::ClaimEvent::Type::kLost, "fake claim deleted"});
  }
}

void FakeCoordinator::DeleteClaimUnseen(int64_t worker_id) {
  MutexLock lock(&mu_);
  RemoveClaim(worker_id, "deleted");
}

void FakeCoordinator::ReportMissed(int64_t worker_id) {
  std::vector<std::function<void(const lp::ClaimEvent&)>> notify;
  {
    MutexLock lock(&mu_);
    notify = WatchersOf(worker_id);
  }
  for (const auto& f : notify) {
    f(lp::ClaimEvent{lp::ClaimEvent::Type::kMissed, "fake stream dropped"});
  }
}

void FakeCoordinator::PutMark(int64_t worker_id, int64_t unix_millis) {
  MutexLock lock(&mu_);
  marks_[worker_id] = {unix_millis, ++version_};
}

void FakeCoordinator::SetHistoryWentBack(std::string reason) {
  MutexLock lock(&mu_);
  went_back_ = std::move(reason);
}

void FakeCoordinator::SetConfig(std::string config) {
  MutexLock lock(&mu_);
  config_ = std::move(config);
}

std::optional<int64_t> FakeCoordinator::Mark(int64_t worker_id) const {
  MutexLock lock(&mu_);
  auto it = marks_.find(worker_id);
  if (it == marks_.end()) return std::nullopt;
  return it->second.first;
}

int64_t FakeCoordinator::Holder(int64_t worker_id) const {
  MutexLock lock(&mu_);
  auto it = claims_.find(worker_id);
  return it == claims_.end() ? 0 : it->second.first;
}

int FakeCoordinator::keep_alives() const {
  MutexLock lock(&mu_);
  return keep_alives_;
}

}  // namespace snowflake::testing
