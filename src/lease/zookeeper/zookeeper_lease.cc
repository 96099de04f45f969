#include "src/lease/zookeeper/zookeeper_lease.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/lease/zookeeper/zookeeper_coordinator.h"

namespace snowflake {

absl::StatusOr<std::unique_ptr<ZooKeeperLease>> ZooKeeperLease::Create(
    ZooKeeperLeaseOptions options, LeaseClock& clock) {
  if (absl::Status status = CheckOptions(options); !status.ok()) {
    return status;
  }
  if (options.hosts.empty()) {
    return absl::InvalidArgumentError("ZooKeeper hosts must not be empty");
  }
  if (options.root.empty() || options.root.front() != '/' ||
      options.root.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("ZooKeeper root \"", options.root,
                     "\" must start with / and not end with /"));
  }
  const size_t colon = options.auth.find(':');
  if (!options.auth.empty() && (colon == std::string::npos || colon == 0)) {
    return absl::InvalidArgumentError("ZooKeeper auth must be user:password");
  }
  ZooKeeperCoordinatorOptions coordinator;
  coordinator.hosts = options.hosts;
  coordinator.auth = options.auth;
  coordinator.root = options.root;
  coordinator.cluster = options.cluster;
  coordinator.session_timeout = std::chrono::seconds(options.ttl_seconds);
  coordinator.call_timeout = CallTimeout(options.ttl_seconds);
  coordinator.connect_timeout = 2 * coordinator.call_timeout;
  auto made =
      std::make_unique<ZooKeeperCoordinator>(std::move(coordinator), clock);
  ClusterLeaseOptions cluster = std::move(options);
  return std::unique_ptr<ZooKeeperLease>(
      new ZooKeeperLease(std::move(cluster), std::move(made), clock));
}

}  // namespace snowflake
