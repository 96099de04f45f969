// The flags of `snowflake cluster` and of its subcommand fence-restore.
#ifndef SNOWFLAKE_CLI_CLUSTER_FLAGS_H_
#define SNOWFLAKE_CLI_CLUSTER_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace snowflake::cli {

struct ClusterFlags {
  // etcd client URLs, "http://host:port" or "https://host:port".
  std::vector<std::string> endpoints;
  std::string cluster = "default";
  std::string prefix = "/snowflake";
  // "A-B": the range whose free IDs are counted (fence-restore: whose
  // high-water marks are raised); empty: every worker ID of the cluster's
  // stored layout.
  std::string worker_range;
  bool json = false;  // One JSON object instead of a table.
  // TLS (PEM files) and authentication, as for snowflaked.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string user;
  std::string password;
  int64_t timeout_millis = 5000;  // Per etcd call and endpoint.
};

// fence-restore's own flags; the names and defaults are snowflaked's.
struct FenceRestoreFlags {
  int64_t outage_budget_seconds = 60;    // --outage-budget
  int64_t max_clock_skew_millis = 1000;  // --max-clock-skew-ms
  bool dry_run = false;                  // Print what would be written.
};

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLUSTER_FLAGS_H_
