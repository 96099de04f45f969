// The coordinators the tests shared by etcd and ZooKeeper run against
// (the end-to-end suite tests/integration/coordinator_test.cc, the lease
// tests src/lease/cluster_lease_test.cc), behind one small interface: real
// etcd (EtcdLauncher) or a real ZooKeeper ensemble (ZooKeeperLauncher); the
// daemon flags that point a node at it, or a lease made on it in-process;
// member and whole-ensemble faults; and the cluster's tree as an operator
// sees it (who holds a worker ID, its stored HWM), including an admin
// writing a mark, ending a node's session or deleting its claim by hand.
#ifndef SNOWFLAKE_TESTING_COORDINATOR_BACKEND_H_
#define SNOWFLAKE_TESTING_COORDINATOR_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/cluster_lease.h"

namespace snowflake::testing {

// The flags that point a node at its coordinator, given the spec's TTL.
using CoordinatorFlags = std::function<std::vector<std::string>(int)>;

// `urls` comma-separated.
inline std::string JoinUrls(const std::vector<std::string>& urls) {
  std::string joined;
  for (const std::string& url : urls) {
    if (!joined.empty()) joined += ",";
    joined += url;
  }
  return joined;
}

// The flags of an etcd-mode node on `urls` (comma-separated).
inline CoordinatorFlags EtcdFlags(std::string urls) {
  return [urls = std::move(urls)](int ttl_seconds) {
    return std::vector<std::string>{
        "--coordinator",    "etcd",
        "--etcd-endpoints", urls,
        "--lease-ttl",      std::to_string(ttl_seconds)};
  };
}

enum class CoordinatorKind { kEtcd, kZooKeeper };

// "etcd", "zookeeper": the suite's instance names.
std::string KindName(CoordinatorKind kind);
// For GoogleTest's test names and messages.
inline void PrintTo(CoordinatorKind kind, std::ostream* os) {
  *os << KindName(kind);
}

// The holder of a worker ID, as the coordinator stores it.
struct ClaimInfo {
  std::string node;  // The holder's --node-name.
  // What the claim is bound to: the etcd lease ID, or the ZooKeeper session
  // that owns the ephemeral znode.
  int64_t session = 0;
};

// One running coordinator. Not thread-safe, except the tree's calls
// (ReadClaim, ClaimCount, StoredHwm, EndSession, DeleteClaim), which may run
// on several threads at once. The destructor stops every member.
class CoordinatorBackend {
 public:
  // Starts `members` members (1, or 3 for an ensemble that survives one
  // member's death) and waits until each serves. Null, with a test failure,
  // if they did not come up.
  static std::unique_ptr<CoordinatorBackend> Start(CoordinatorKind kind,
                                                   int members);

  virtual ~CoordinatorBackend() = default;
  CoordinatorBackend(const CoordinatorBackend&) = delete;
  CoordinatorBackend& operator=(const CoordinatorBackend&) = delete;

  virtual CoordinatorKind kind() const = 0;
  std::string name() const { return KindName(kind()); }
  virtual int size() const = 0;

  // The flags that point a node at every member, with the session's
  // lifetime: `--coordinator etcd --etcd-endpoints URLS --lease-ttl S`, or
  // `--coordinator zookeeper --zookeeper-hosts HOSTS --session-timeout S`.
  virtual CoordinatorFlags NodeFlags() const = 0;
  // A lease on this coordinator, in this process (under the default
  // prefix / root znode), on every member.
  virtual absl::StatusOr<std::unique_ptr<ClusterLease>> MakeLease(
      ClusterLeaseOptions options, LeaseClock& clock) = 0;
  // The servers' temporary folder (state directories may go under it).
  virtual std::string dir() const = 0;

  // SIGKILL member `i` / start it again on its data (waiting until it
  // serves when `wait`, which needs a quorum) / SIGSTOP / SIGCONT it.
  virtual absl::Status Kill(int i) = 0;
  virtual absl::Status Restart(int i, bool wait) = 0;
  virtual absl::Status Pause(int i) = 0;
  virtual absl::Status Resume(int i) = 0;
  // The index of the leader, or -1 when none can be told.
  virtual int Leader() = 0;
  // Every member killed; every member started again (waiting for the last,
  // once a quorum is up).
  absl::Status StopAll();
  absl::Status StartAll();

  // The holder of worker `id` in `cluster` (nullopt: nobody). Errors: the
  // coordinator did not answer.
  virtual absl::StatusOr<std::optional<ClaimInfo>> ReadClaim(
      const std::string& cluster, int64_t id) = 0;
  // How many worker IDs of `cluster` are held.
  virtual absl::StatusOr<size_t> ClaimCount(const std::string& cluster) = 0;
  // How many nodes of `cluster` have a discovery entry (nodes/<name>);
  // nullopt where the mode writes none (ZooKeeper: discovery reads the
  // holders' addresses from workers/<id>).
  virtual std::optional<size_t> DiscoveryCount(const std::string& cluster) = 0;
  // The HWM stored for worker `id` (Unix ms; nullopt: none stored).
  virtual absl::StatusOr<std::optional<int64_t>> StoredHwm(
      const std::string& cluster, int64_t id) = 0;
  // An admin ends, on the server, the session the holder of worker `id` is
  // bound to, as if it had expired: etcd revokes the lease; ZooKeeper closes
  // the session through a second connection that presents the session's ID
  // and password (ZooKeeper 3.8 has no admin command for it; the server
  // derives a session's password from its ID), so that the server deletes
  // its ephemeral znodes and answers the holder's next reconnection with
  // SESSION_EXPIRED. Errors: no holder, or the server did not do it.
  virtual absl::Status EndSession(const std::string& cluster, int64_t id) = 0;
  // Another writer (fence-restore, a holder that left) stores `unix_millis`
  // as worker `id`'s HWM, whatever is there.
  virtual absl::Status PutHwm(const std::string& cluster, int64_t id,
                              int64_t unix_millis) = 0;
  // An admin deletes the claim workers/<id> by hand.
  virtual absl::Status DeleteClaim(const std::string& cluster, int64_t id) = 0;

  // The last lines of member `i`'s log.
  virtual std::string LogTail(int i) const = 0;

 protected:
  CoordinatorBackend() = default;
};

// True when the coordinator answered that worker `id` is held / free.
inline bool ClaimHeld(CoordinatorBackend& backend, const std::string& cluster,
                      int64_t id) {
  absl::StatusOr<std::optional<ClaimInfo>> claim =
      backend.ReadClaim(cluster, id);
  return claim.ok() && claim->has_value();
}
inline bool ClaimFree(CoordinatorBackend& backend, const std::string& cluster,
                      int64_t id) {
  absl::StatusOr<std::optional<ClaimInfo>> claim =
      backend.ReadClaim(cluster, id);
  return claim.ok() && !claim->has_value();
}
// The stored HWM, or nullopt when there is none or no answer.
inline std::optional<int64_t> HwmOf(CoordinatorBackend& backend,
                                    const std::string& cluster, int64_t id) {
  absl::StatusOr<std::optional<int64_t>> hwm = backend.StoredHwm(cluster, id);
  return hwm.ok() ? *hwm : std::nullopt;
}

// The password a ZooKeeper 3.x server gives session `session_id`: 16 bytes
// of java.util.Random seeded with the ID xor the server's fixed secret
// (ZooKeeperServer.generatePasswd).
std::string ZooKeeperSessionPassword(int64_t session_id);

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_COORDINATOR_BACKEND_H_
