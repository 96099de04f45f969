// `snowflake get`: IDs from a running cluster, through the client library
// (include/snowflake/client.h), over HTTP or gRPC: from nodes listed with
// --endpoints, or found on the cluster's coordinator (--etcd or --zookeeper,
// --cluster). Built
// apart from snowflake_cli_lib because the client links the etcd client
// (gRPC) for discovery.
#ifndef SNOWFLAKE_CLI_GET_COMMAND_H_
#define SNOWFLAKE_CLI_GET_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "snowflake/clock.h"
#include "src/cli/cli.h"
#include "src/cli/cluster_flags.h"
#include "src/cli/commands.h"

namespace snowflake::cli {

struct GetFlags {
  int64_t count = 1;  // -n
  // --endpoints, "http://host:port" or "grpc://host:port".
  std::vector<std::string> endpoints;
  // --etcd or --zookeeper with --cluster, --prefix, TLS, credentials and
  // --timeout-ms, as `snowflake cluster` takes them.
  ClusterFlags coordinator;
  // --transport: "http" or "grpc", the protocol preferred for discovered
  // nodes (ClientOptions::transport).
  std::string transport = "http";
  std::string format = "decimal";  // Or "binary": big-endian u64s.
  bool no_prefetch = false;
  int64_t deadline_millis = 2000;  // Of each call of the client.
};

// Prints `flags.count` IDs, one decimal a line or 8 bytes each. With
// prefetch (the default) they come one by one through Client::Next(), from
// the buffer it keeps; with --no-prefetch in batches (Client::NextBatch),
// so that no ID is taken that is not printed. Exit codes: kExitOk;
// kExitUsage for bad flags (one line naming the flag or the bad endpoint);
// kExitBadData when the cluster cannot be found or gives no IDs within the
// deadline (one line with the client's error; IDs printed before stay
// printed).
int Get(const GetFlags& flags, Io& io);

// The command for RunCli's `extra`. Not thread-safe.
class GetCommand final : public ExtraCommand {
 public:
  CLI::App* Add(CLI::App& app) override;
  int Run(Clock& clock, Io& io) override;

 private:
  GetFlags flags_;
};

}  // namespace snowflake::cli

#endif  // SNOWFLAKE_CLI_GET_COMMAND_H_
