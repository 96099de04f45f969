// `snowflake cluster`: what a cluster keeps in etcd (DESIGN section 5), for
// operators: the stored layout and epoch, every worker ID's holder with its
// node, addresses, region, high-water mark and lease time left, and how many
// IDs of a range are free. Built apart from snowflake_cli_lib because it
// links the etcd client (gRPC).
#ifndef SNOWFLAKE_CLI_CLUSTER_COMMAND_H_
#define SNOWFLAKE_CLI_CLUSTER_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "snowflake/clock.h"
#include "src/cli/cli.h"
#include "src/cli/commands.h"

namespace snowflake::cli {

struct ClusterFlags {
  // etcd client URLs, "http://host:port" or "https://host:port".
  std::vector<std::string> endpoints;
  std::string cluster = "default";
  std::string prefix = "/snowflake";
  // "A-B": the range whose free IDs are counted; empty: every worker ID of
  // the cluster's stored layout.
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

// Reads the cluster's keys from etcd and prints them. Exit codes: kExitOk;
// kExitUsage for bad flags; kExitBadData when etcd cannot be read (one
// line on the error stream naming the endpoint and the error). Entries that
// do not parse are shown as such, never fatal. `clock` gives "now" for the
// HWM's distance ahead of the present.
int Cluster(const ClusterFlags& flags, Clock& clock, Io& io);

// The command for RunCli's `extra`. Not thread-safe.
class ClusterCommand final : public ExtraCommand {
 public:
  CLI::App* Add(CLI::App& app) override;
  int Run(Clock& clock, Io& io) override;

 private:
  ClusterFlags flags_;
};

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLUSTER_COMMAND_H_
