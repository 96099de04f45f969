// The lease protocol's coordinator primitives (src/lease/protocol/
// coordinator.h) on ZooKeeper, in the tree of cluster_schema.h under the
// root znode (and the connection string's chroot):
//
// - Session: the client's ZooKeeper session; its TTL is the negotiated
//   session timeout. A keep-alive reads the claim (exists): the send time of
//   an answered read is the evidence, and the claim's ephemeral owner must
//   still be this session. While the client is not connected, a probe
//   session (made at most once per call timeout, kept until the client is
//   answered again) reads the claim instead: it tells an outage (no
//   answer) from a session the ensemble no longer knows (the claim gone or
//   re-bound: expired, closed, deleted, or an ensemble restored from an
//   older snapshot, whose servers refuse a client that saw newer
//   transactions), which the client itself may not be told before the
//   session timeout. Either way an unreachable ensemble is not a loss.
// - Claim: an EPHEMERAL znode workers/<id> holding the holder's JSON.
// - Mark: a PERSISTENT znode hwm/<id>; its version is the znode's data
//   version. CompareAndSetMark is one multi: check the claim's version, and
//   set (or create) the mark on its version. ZooKeeper's check compares a
//   data version, not the ephemeral owner: a claim deleted by hand and made
//   again by another session passes it. So after every applied set the
//   claim's owner is read back, and a claim found re-bound is reported lost
//   (claim_held false): the holder stops at once, and the new holder's
//   takeover wait covers the write that went in (docs/operations.md).
// - Loss: an exists watch on the claim, armed again after each firing by a
//   thread of the watch's own (the C client's callbacks must not call it).
//   A dropped connection is reported as missed events (kMissed): the
//   protocol then reads the claim at once (VerifyClaim, through the probe
//   session while the client reconnects) and at every poll until it can.
// - History: no definite evidence from answers (the C client does not show
//   the zxid of replies); a restore is found by the claim, as above.
// - nodes/<name> is not written: an ephemeral znode cannot be overwritten
//   by a restarted node while the old session lives. Discovery reads the
//   holders' addresses from workers/<id>.
#ifndef SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_COORDINATOR_H_
#define SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_COORDINATOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "src/base/mutex.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/coordinator.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake {

struct ZooKeeperCoordinatorOptions {
  std::string hosts;  // "host:port,...[/chroot]"
  std::string auth;   // "user:password" (digest) or empty.
  std::string root;   // "/snowflake"
  std::string cluster;
  // The session timeout asked for until OpenSession asks for another.
  std::chrono::milliseconds session_timeout{30000};
  // One request's wait for its answer, and a session's wait to connect
  // (a probe's: call_timeout).
  std::chrono::milliseconds call_timeout{2000};
  std::chrono::milliseconds connect_timeout{4000};
};

// Thread-safe. Not copyable.
class ZooKeeperCoordinator final : public lease_protocol::Coordinator {
 public:
  // Does not connect: the first call that needs a session does. `clock`
  // must outlive the coordinator; the session's times are kept on it.
  ZooKeeperCoordinator(ZooKeeperCoordinatorOptions options, LeaseClock& clock);
  ~ZooKeeperCoordinator() override;

  std::string Mode() const override { return "zookeeper"; }
  std::string DescribeMark(int64_t worker_id) const override;
  std::string DescribeClaim(int64_t worker_id) const override;
  std::string DescribeConfig() const override;

  // Also creates the cluster's persistent znodes (root, cluster, workers,
  // hwm) where absent. Errors beyond the interface's: kFailedPrecondition
  // when the chroot does not exist, kPermissionDenied when the credentials
  // are refused or the znodes belong to another user.
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
  using Client = zookeeper::ZooKeeperClient;

  // The current session's client, connecting one (with session_timeout_)
  // if there is none or the current one is expired and not handed out.
  absl::StatusOr<std::shared_ptr<Client>> Current();
  // The current client if its session is `session`; else why not (a
  // kFailedPrecondition "session closed or replaced").
  absl::StatusOr<std::shared_ptr<Client>> ClientOf(int64_t session);
  absl::StatusOr<std::unique_ptr<Client>> Connect(
      std::chrono::milliseconds session_timeout,
      std::chrono::milliseconds connect_timeout) const;
  // Creates the cluster's persistent znodes where absent.
  absl::Status EnsureTree(Client& client);
  // Asks the probe session (made if there is none and the spacing allows)
  // whether `session` still holds its claim on `worker_id`: a loss reason
  // if not, "" if it does or nobody answers.
  std::string Probe(int64_t worker_id, int64_t session);
  // Closes the probe session, if any: the client is answered again.
  void ReleaseProbe();
  lease_protocol::StoredMark DecodeMark(int64_t worker_id,
                                        const zookeeper::Node& node) const;
  // Adds the client's error context: what to fix for a missing chroot or
  // refused credentials.
  absl::Status Explain(const absl::Status& status) const;

  std::string ClusterPath() const;
  std::string WorkerPath(int64_t worker_id) const;
  std::string HwmPath(int64_t worker_id) const;
  // "ZooKeeper znode <chroot><path>".
  std::string Describe(const std::string& path) const;

  const ZooKeeperCoordinatorOptions options_;
  LeaseClock& clock_;

  mutable Mutex mu_;
  std::shared_ptr<Client> client_ ABSL_GUARDED_BY(mu_);
  // The session timeout asked for; OpenSession sets it.
  std::chrono::milliseconds session_timeout_ ABSL_GUARDED_BY(mu_);
  // The session OpenSession handed out (0: none): a client whose session
  // was handed out is never handed out again.
  int64_t opened_ ABSL_GUARDED_BY(mu_) = 0;
  // The claim the current session made, read back by keep-alives.
  int64_t claimed_worker_ ABSL_GUARDED_BY(mu_) = -1;
  int32_t claim_version_ ABSL_GUARDED_BY(mu_) = 0;
  // The probe session while the client is cut off (null otherwise), and
  // when the last one was made (clock_), so that they are spaced.
  std::shared_ptr<Client> probe_ ABSL_GUARDED_BY(mu_);
  int64_t last_probe_micros_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_LEASE_ZOOKEEPER_ZOOKEEPER_COORDINATOR_H_
