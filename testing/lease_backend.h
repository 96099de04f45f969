// The coordinator of the lease tests that run on both etcd and ZooKeeper
// (src/lease/cluster_lease_test.cc): a real server started for the test,
// leases made on it, and what a test does behind the leases' backs (an
// operator's writes and deletes, a server that freezes or ends a session).
#ifndef SNOWFLAKE_TESTING_LEASE_BACKEND_H_
#define SNOWFLAKE_TESTING_LEASE_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/lease/lease_clock.h"
#include "src/lease/protocol/cluster_lease.h"

namespace snowflake::testing {

class LeaseBackend {
 public:
  // "etcd" or "zookeeper": one member, on free loopback ports, in its own
  // temporary folder; stopped by the destructor.
  static absl::StatusOr<std::unique_ptr<LeaseBackend>> Start(
      const std::string& name);
  virtual ~LeaseBackend() = default;

  // A lease of this coordinator with `options` (under the default prefix).
  virtual absl::StatusOr<std::unique_ptr<ClusterLease>> Make(
      ClusterLeaseOptions options, LeaseClock& clock) = 0;
  // Writes hwm/<id> of `cluster` as another writer would (fence-restore, a
  // holder that left), whatever is there.
  virtual absl::Status PutMark(const std::string& cluster, int64_t worker_id,
                               int64_t unix_millis) = 0;
  // The stored mark of `worker_id`; kNotFound when there is none.
  virtual absl::StatusOr<int64_t> ReadMark(const std::string& cluster,
                                           int64_t worker_id) = 0;
  // Deletes the claim workers/<id>, as an operator by hand.
  virtual absl::Status DeleteClaim(const std::string& cluster,
                                   int64_t worker_id) = 0;
  // The node named in the claim on `worker_id`; kNotFound when unclaimed.
  virtual absl::StatusOr<std::string> ClaimNode(const std::string& cluster,
                                                int64_t worker_id) = 0;
  // Ends the session that holds `worker_id` from the coordinator's side:
  // etcd revokes its lease; ZooKeeper expires it (the server frozen past
  // `session_timeout_millis`, then thawed). Returns once ended.
  virtual absl::Status EndSession(const std::string& cluster, int64_t worker_id,
                                  int64_t session_timeout_millis) = 0;
  // Freezes the server (SIGSTOP; returns once it answers nothing) and
  // thaws it.
  virtual absl::Status Pause() = 0;
  virtual absl::Status Resume() = 0;
  // The server's temporary folder (state directories may go under it).
  virtual std::string dir() const = 0;
  // What a lease's loss reason says when its claim was deleted by hand.
  virtual std::string deleted_reason() const = 0;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_LEASE_BACKEND_H_
