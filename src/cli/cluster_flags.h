// The flags of `snowflake cluster` and of its subcommands. Their defaults are
// snowflaked's (limits.h, cluster_schema.h), so that the tool looks where the
// nodes write.
#ifndef SNOWFLAKE_CLI_CLUSTER_FLAGS_H_
#define SNOWFLAKE_CLI_CLUSTER_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/lease/cluster_schema.h"
#include "src/server/limits.h"

namespace snowflake::cli {

struct ClusterFlags {
  // The coordinator: exactly one of these. etcd client URLs,
  // "http://host:port" or "https://host:port" (--etcd); or ZooKeeper's
  // "host:port,host:port[/chroot]" (--zookeeper).
  std::vector<std::string> endpoints;
  std::string zookeeper_hosts;
  std::string cluster = limits::kDefaultCluster;
  // etcd's key prefix, or ZooKeeper's root znode (below the chroot).
  std::string prefix = cluster_schema::kDefaultPrefix;
  // "A-B": the range whose free IDs are counted (fence-restore: whose
  // high-water marks are raised); empty: every worker ID of the cluster's
  // stored layout.
  std::string worker_range;
  bool json = false;  // One JSON object instead of a table.
  // `snowflake cluster`'s output: "table", "json" (as --json), or
  // "prometheus-sd" (the holders as Prometheus file_sd targets).
  std::string format = "table";
  // Empty: standard output; else written to this file atomically
  // (a temporary file renamed over it), so a reader never sees half.
  std::string output;
  // Above 0: read and write again every this many seconds until stopped.
  int64_t refresh_seconds = 0;
  // prometheus-sd with refresh: how long a holder that left stays a target.
  int64_t keep_departed_seconds = 0;
  // ZooKeeper: "user:password" for the digest scheme; empty: none.
  std::string zookeeper_auth;
  // etcd: TLS (PEM files) and authentication, as for snowflaked.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string user;
  std::string password;
  // Per etcd call and endpoint; ZooKeeper: to connect, and per call.
  int64_t timeout_millis = 5000;
};

// fence-restore's own flags; the names and defaults are snowflaked's.
struct FenceRestoreFlags {
  // --outage-budget
  int64_t outage_budget_seconds = limits::kDefaultOutageBudgetSeconds;
  // --max-clock-skew-ms
  int64_t max_clock_skew_millis = limits::kDefaultMaxClockSkewMillis;
  bool dry_run = false;  // Print what would be written.
};

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLUSTER_FLAGS_H_
