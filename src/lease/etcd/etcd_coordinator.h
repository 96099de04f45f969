// The lease protocol's coordinator primitives (src/lease/protocol/
// coordinator.h) on etcd, in the key space of cluster_schema.h: a session is
// an etcd lease, a claim a key put "if absent" with that lease (together
// with nodes/<name>), a mark's version its mod revision, and the history
// goes back when a response header's revision falls below one seen or its
// cluster ID changes.
#ifndef SNOWFLAKE_SRC_LEASE_ETCD_ETCD_COORDINATOR_H_
#define SNOWFLAKE_SRC_LEASE_ETCD_ETCD_COORDINATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "src/etcd/etcd_client.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/coordinator.h"

namespace snowflake {

// Thread-safe. Not copyable.
class EtcdCoordinator final : public lease_protocol::Coordinator {
 public:
  // `options.on_header` is taken over to watch the history; its timeouts
  // are used as they are. `clock` (for the session's evidence) must
  // outlive the coordinator. Errors: the client's.
  static absl::StatusOr<std::unique_ptr<EtcdCoordinator>> Create(
      etcd::Options options, std::string prefix, std::string cluster,
      LeaseClock& clock);
  ~EtcdCoordinator() override;

  std::string Mode() const override { return "etcd"; }
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

 private:
  class RevisionGuard;
  EtcdCoordinator(std::unique_ptr<etcd::EtcdClient> client,
                  std::shared_ptr<RevisionGuard> guard, std::string prefix,
                  std::string cluster, LeaseClock& clock);

  lease_protocol::StoredMark DecodeMark(
      int64_t worker_id, const std::vector<etcd::KeyValue>& kvs) const;

  const std::unique_ptr<etcd::EtcdClient> client_;
  const std::shared_ptr<RevisionGuard> guard_;
  const std::string prefix_;
  const std::string cluster_;
  LeaseClock& clock_;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ETCD_ETCD_COORDINATOR_H_
