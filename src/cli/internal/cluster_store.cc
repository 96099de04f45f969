#include "src/cli/internal/cluster_store.h"

#include <chrono>

#include "absl/status/status.h"

namespace snowflake::cli::internal {

client::CoordinatorOptions CoordinatorOptionsOf(const ClusterFlags& flags) {
  client::CoordinatorOptions options;
  options.etcd_endpoints = flags.endpoints;
  options.zookeeper_hosts = flags.zookeeper_hosts;
  options.zookeeper_auth = flags.zookeeper_auth;
  options.ca_file = flags.ca_file;
  options.cert_file = flags.cert_file;
  options.key_file = flags.key_file;
  options.user = flags.user;
  options.password = flags.password;
  options.timeout = std::chrono::milliseconds(flags.timeout_millis);
  return options;
}

absl::StatusOr<std::unique_ptr<ClusterStore>> OpenStore(
    const ClusterFlags& flags) {
  return client::OpenCoordinatorStore(CoordinatorOptionsOf(flags));
}

absl::StatusOr<std::vector<ClusterSummary>> ListClusters(
    ClusterStore& store, const std::string& prefix) {
  if (store.etcd() != nullptr) return cli::ListClusters(*store.etcd(), prefix);
  if (store.zookeeper() != nullptr) {
    return cli::ListClusters(*store.zookeeper(), prefix);
  }
  return absl::InternalError("a coordinator store without a client");
}

}  // namespace snowflake::cli::internal
