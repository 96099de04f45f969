// `snowflake cluster`: what a cluster keeps in etcd or ZooKeeper (the same
// tree, docs/operations.md), for operators: the stored layout and epoch, every
// worker ID's holder with its node, addresses, region, high-water mark and
// lease time left, and how many IDs of a range are free; `snowflake cluster
// list` (cluster_list.h), the clusters that exist; and `snowflake cluster
// fence-restore` (fence_restore.h). Built apart from snowflake_cli_lib because
// it links the etcd client (gRPC) and ZooKeeper's C client.
#ifndef SNOWFLAKE_CLI_CLUSTER_COMMAND_H_
#define SNOWFLAKE_CLI_CLUSTER_COMMAND_H_

#include "snowflake/clock.h"
#include "src/cli/cli.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/commands.h"

namespace snowflake::cli {

// Reads the cluster's keys from etcd (--etcd) or ZooKeeper (--zookeeper)
// and prints them, the same table or JSON for both (ZooKeeper shows no
// lease time left). Exit codes: kExitOk; kExitUsage for bad flags;
// kExitBadData when the coordinator cannot be read (one line on the error
// stream naming the endpoint or hosts and the error). Entries that
// do not parse are shown as such, never fatal. `clock` gives "now" for the
// HWM's distance ahead of the present.
int Cluster(const ClusterFlags& flags, Clock& clock, Io& io);

// The command for RunCli's `extra`, with its subcommands list and
// fence-restore. Not thread-safe.
class ClusterCommand final : public ExtraCommand {
 public:
  CLI::App* Add(CLI::App& app) override;
  int Run(Clock& clock, Io& io) override;

 private:
  ClusterFlags flags_;
  FenceRestoreFlags fence_flags_;
  CLI::App* list_ = nullptr;           // Owned by the app.
  CLI::App* fence_restore_ = nullptr;  // Owned by the app.
};

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_CLUSTER_COMMAND_H_
