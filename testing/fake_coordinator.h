// An in-memory lease_protocol::Coordinator, for testing the lease protocol
// (CoordinatedLease) without a coordinator process: claims, marks, config
// and sessions in maps, with switches for what a real coordinator does to
// a node (unreachable, session expired, claim deleted, history went back).
#ifndef SNOWFLAKE_TESTING_FAKE_COORDINATOR_H_
#define SNOWFLAKE_TESTING_FAKE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/coordinator.h"

namespace snowflake::testing {

// Thread-safe. Watch callbacks run on the thread that caused the event
// (DeleteClaim), not a thread of their own. Must outlive its leases.
class FakeCoordinator final : public lease_protocol::Coordinator {
 public:
  explicit FakeCoordinator(LeaseClock& clock) : clock_(clock) {}

  std::string Mode() const override { return "fake"; }
  std::string DescribeMark(int64_t worker_id) const override;
  std::string DescribeClaim(int64_t worker_id) const override;
  std::string DescribeConfig() const override;
  absl::StatusOr<std::string> CreateOrReadConfig(
      const std::string& want) override;
  absl::StatusOr<lease_protocol::Session> OpenSession(
      int64_t ttl_seconds) override;
  absl::StatusOr<lease_protocol::SessionEvidence> KeepAlive(
      int64_t session) override;
  absl::Status CloseSession(int64_t session) override;
  absl::StatusOr<std::vector<lease_protocol::ClaimEntry>> ListClaims() override;
  absl::StatusOr<std::vector<lease_protocol::MarkEntry>> ListMarks() override;
  absl::StatusOr<lease_protocol::ClaimResult> CreateClaim(
      int64_t worker_id, const lease_protocol::HolderInfo& holder,
      int64_t session) override;
  absl::StatusOr<lease_protocol::ClaimCheck> VerifyClaim(
      int64_t worker_id, int64_t session) override;
  absl::StatusOr<std::unique_ptr<lease_protocol::ClaimWatch>> WatchClaim(
      int64_t worker_id, int64_t session, int64_t position,
      std::function<void(const lease_protocol::ClaimEvent&)> on_event) override;
  absl::StatusOr<lease_protocol::StoredMark> ReadMark(
      int64_t worker_id) override;
  absl::StatusOr<lease_protocol::CasResult> CompareAndSetMark(
      int64_t worker_id, int64_t session,
      const lease_protocol::Version& expected, int64_t unix_millis) override;
  lease_protocol::HistoryEvidence TakeHistory() override;
  void ResetHistory() override;

  // What a test does to the coordinator.
  void SetReachable(bool reachable);
  // Ends `session` as an expiry would: its claims go, its watches fire.
  void ExpireSession(int64_t session);
  // Deletes a claim as an admin would; its watches fire.
  void DeleteClaim(int64_t worker_id);
  // Deletes a claim while its watches' streams are down: they miss it.
  void DeleteClaimUnseen(int64_t worker_id);
  // The claim's watches report missed events, as after a dropped stream.
  void ReportMissed(int64_t worker_id);
  // Sets a mark as another writer would (fence-restore).
  void PutMark(int64_t worker_id, int64_t unix_millis);
  void SetHistoryWentBack(std::string reason);
  void SetConfig(std::string config);

  std::optional<int64_t> Mark(int64_t worker_id) const;
  // The session holding `worker_id`, 0 when free.
  int64_t Holder(int64_t worker_id) const;
  int keep_alives() const;

 private:
  struct Watch {
    int64_t worker_id;
    std::function<void(const lease_protocol::ClaimEvent&)> on_event;
  };
  class WatchHandle;

  absl::Status Reach() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the claim and returns the watches to notify (outside mu_).
  std::vector<std::function<void(const lease_protocol::ClaimEvent&)>>
  RemoveClaim(int64_t worker_id, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The callbacks of the claim's watches (to call outside mu_).
  std::vector<std::function<void(const lease_protocol::ClaimEvent&)>>
  WatchersOf(int64_t worker_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unwatch(int64_t handle);

  LeaseClock& clock_;
  mutable Mutex mu_;
  bool reachable_ ABSL_GUARDED_BY(mu_) = true;
  int64_t next_session_ ABSL_GUARDED_BY(mu_) = 100;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 1;  // A global counter, as etcd's.
  std::map<int64_t, int64_t> sessions_ ABSL_GUARDED_BY(mu_);  // id -> TTL ms
  std::map<int64_t, std::pair<int64_t, std::string>> claims_
      ABSL_GUARDED_BY(mu_);  // ID -> (session, node)
  std::map<int64_t, std::pair<int64_t, int64_t>> marks_
      ABSL_GUARDED_BY(mu_);  // ID -> (mark, version)
  std::optional<std::string> config_ ABSL_GUARDED_BY(mu_);
  std::string went_back_ ABSL_GUARDED_BY(mu_);
  int64_t next_watch_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, Watch> watches_ ABSL_GUARDED_BY(mu_);
  int keep_alives_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_FAKE_COORDINATOR_H_
