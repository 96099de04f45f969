#include "src/lease/etcd/etcd_lease.h"

#include <utility>

#include "src/lease/etcd/etcd_coordinator.h"

namespace snowflake {

absl::StatusOr<std::unique_ptr<EtcdLease>> EtcdLease::Create(
    EtcdLeaseOptions options, LeaseClock& clock) {
  if (absl::Status status = CheckOptions(options); !status.ok()) {
    return status;
  }
  options.client.timeout = CallTimeout(options.ttl_seconds);
  options.client.dial_timeout = options.client.timeout;
  auto coordinator = EtcdCoordinator::Create(options.client, options.prefix,
                                             options.cluster, clock);
  if (!coordinator.ok()) return coordinator.status();
  ClusterLeaseOptions cluster = std::move(options);
  return std::unique_ptr<EtcdLease>(
      new EtcdLease(std::move(cluster), *std::move(coordinator), clock));
}

}  // namespace snowflake
